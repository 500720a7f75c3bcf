"""The plain values that cross the graph's seams: nodes, edges, revisions, change sets.

Times are microseconds since the Unix epoch in UTC (see ``reelgraph.core.clock``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from reelgraph.core import Conflict, InvalidInput
from reelgraph.graph.uri import NodeKey

Json = dict[str, Any]


# Every reader renders properties (API, search, lineage), so a value it cannot render is
# refused at write time: JSON nested past 260 levels broke every read that touched it.
MAX_DEPTH = 32
MAX_PROPERTY_BYTES = 1 << 20  # serialized


def _depth(value: Any) -> int:
    """Nesting depth of lists and objects, without recursion (a hostile value may be deep)."""
    deepest, level = 0, [(value, 1)]
    while level:
        item, depth = level.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth)
            if depth <= MAX_DEPTH:
                level.extend((v, depth + 1) for v in (item.values() if isinstance(item, dict)
                                                      else item))
    return deepest


def check_text(value: str, what: str) -> None:
    """Text that every database stores: UTF-8 encodable, no NUL (PostgreSQL refuses it)."""
    if "\x00" in value:
        raise InvalidInput(f"{what} contain a NUL character", "remove the NUL (\\u0000)")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput(f"{what} contain a lone surrogate, which is not text",
                           "send valid UTF-8") from None


def check_properties(properties: Json, what: str) -> None:
    """Properties must be plain JSON objects, at most ``MAX_DEPTH`` deep and
    ``MAX_PROPERTY_BYTES`` serialized (one limit for every write path)."""
    if not isinstance(properties, dict):
        raise InvalidInput(f"{what} are a {type(properties).__name__}, not an object",
                           "pass properties as a JSON object")
    if _depth(properties) > MAX_DEPTH:
        raise InvalidInput(f"{what} are nested more than {MAX_DEPTH} levels deep",
                           "flatten them (store deep documents as an artifact and link it)")
    try:
        dumped = json.dumps(properties, allow_nan=False, ensure_ascii=False)
        size = len(dumped.encode("utf-8"))  # a lone surrogate fails here (no database takes it)
        check_text(dumped.replace("\\u0000", "\x00"), what)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"{what} are not plain JSON ({exc})",
                           "use only strings, numbers, booleans, null, lists and objects"
                           ) from None
    if size > MAX_PROPERTY_BYTES:
        raise InvalidInput(f"{what} take {size} bytes as JSON, more than {MAX_PROPERTY_BYTES}",
                           "store large values as an artifact and put its digest here")


@dataclass(frozen=True)
class NodeSpec:
    """What a writer says about a node; the store turns it into a revision."""

    key: NodeKey
    domain: str | None = None  # defaults to the namespace
    owner: str = ""
    description: str = ""
    tags: tuple[str, ...] = ()
    properties: Json = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_properties(self.properties, f"properties of {self.key.uri}")
        if not all(isinstance(t, str) and t for t in self.tags):
            raise InvalidInput(f"tags of {self.key.uri} must be non-empty strings", "fix tags")
        for name in ("domain", "owner", "description"):
            check_text(getattr(self, name) or "", f"the {name} of {self.key.uri}")
        check_text("".join(self.tags), f"the tags of {self.key.uri}")
        object.__setattr__(self, "tags", tuple(sorted(set(self.tags))))

    @property
    def uri(self) -> str:
        return self.key.uri

    @property
    def effective_domain(self) -> str:
        return self.domain or self.key.namespace

    def content(self) -> Json:
        """The revisioned content, used to tell a real change from a repeat."""
        return {
            "domain": self.effective_domain,
            "owner": self.owner,
            "description": self.description,
            "tags": list(self.tags),
            "properties": self.properties,
        }


@dataclass(frozen=True)
class Node:
    """A node as stored, at one revision."""

    id: int
    key: NodeKey
    domain: str
    owner: str
    description: str
    tags: tuple[str, ...]
    properties: Json
    revision: int
    valid_from: int
    valid_to: int | None
    deleted: bool

    @property
    def uri(self) -> str:
        return self.key.uri

    @property
    def kind(self) -> str:
        return self.key.kind

    def to_dict(self) -> Json:
        return {
            "uri": self.uri,
            "kind": self.key.kind,
            "namespace": self.key.namespace,
            "name": self.key.name,
            "version": self.key.version,
            "domain": self.domain,
            "owner": self.owner,
            "description": self.description,
            "tags": list(self.tags),
            "properties": self.properties,
            "revision": self.revision,
            "valid_from": self.valid_from,
            "valid_to": self.valid_to,
            "deleted": self.deleted,
        }


_PATCHABLE = ("domain", "owner", "description", "tags")


@dataclass(frozen=True)
class NodePatch:
    """A partial update of a node: only the named fields change, on top of the revision
    current when the write commits (read under the write lock, so no other write is lost).

    ``fields`` may set ``domain``, ``owner``, ``description`` and ``tags``; ``properties``
    are merged into the node's (a key given here replaces that key), and ``unset`` names
    properties to remove.
    """

    key: NodeKey
    fields: Json = field(default_factory=dict)
    properties: Json = field(default_factory=dict)
    unset: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        unknown = sorted(set(self.fields) - set(_PATCHABLE))
        if unknown:
            raise InvalidInput(f"a patch of {self.key.uri} cannot change {unknown}",
                               f"patch only {list(_PATCHABLE)} and properties")

    def apply_to(self, node: Node) -> NodeSpec:
        """The whole new content: ``node`` with this patch applied."""
        properties = {k: v for k, v in node.properties.items() if k not in self.unset}
        properties.update(self.properties)
        current = {"domain": node.domain, "owner": node.owner,
                   "description": node.description, "tags": node.tags}
        merged = {**current, **self.fields}
        return NodeSpec(node.key, merged["domain"], merged["owner"], merged["description"],
                        tuple(merged["tags"]), properties)


@dataclass(frozen=True)
class EdgeSpec:
    """An edge to write: source, kind, destination and properties."""
    src: NodeKey
    kind: str
    dst: NodeKey
    properties: Json = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_properties(self.properties, f"properties of the edge {self.src.uri} "
                         f"-{self.kind}-> {self.dst.uri}")


@dataclass(frozen=True)
class Edge:
    """An edge as stored: ``src --kind--> dst`` valid over [valid_from, valid_to)."""

    id: int
    src_id: int
    dst_id: int
    kind: str
    properties: Json
    valid_from: int
    valid_to: int | None


@dataclass
class ChangeSet:
    """A batch of writes applied atomically: all of it is stored, or none of it.

    Order of application: node writes, patches, node deletions, edge deletions, edge writes.
    """

    nodes: list[NodeSpec] = field(default_factory=list)
    edges: list[EdgeSpec] = field(default_factory=list)
    delete_nodes: list[NodeKey] = field(default_factory=list)
    delete_edges: list[EdgeSpec] = field(default_factory=list)
    author: str = ""
    patches: list[NodePatch] = field(default_factory=list)
    # Optimistic concurrency: node URI -> the revision the writer read (0: "must not exist
    # yet"). A write, patch or deletion of a node whose current revision differs is refused
    # with ``RevisionConflict`` and the whole change set is stored nowhere.
    expected: dict[str, int] = field(default_factory=dict)

    def node(self, spec: NodeSpec) -> ChangeSet:
        self.nodes.append(spec)
        return self

    def edge(self, src: NodeKey, kind: str, dst: NodeKey, **properties: Any) -> ChangeSet:
        self.edges.append(EdgeSpec(src, kind, dst, properties))
        return self


@dataclass(frozen=True)
class ApplyResult:
    nodes_written: int  # new revisions (unchanged nodes are not rewritten)
    nodes_unchanged: int
    nodes_deleted: int
    edges_written: int
    edges_unchanged: int
    edges_deleted: int


class RevisionConflict(Conflict):
    """A write expected a revision of a node that is no longer its current one."""

    def __init__(self, uri: str, expected: int, current: int) -> None:
        now = f"is at revision {current}" if current else "does not exist"
        super().__init__(
            f"node {uri} {now}, but the write expected revision {expected}"
            + (" (a new node)" if expected == 0 else ""),
            "read the node again, reapply your change to its current revision and retry",
        )
        self.uri, self.expected, self.current = uri, expected, current
