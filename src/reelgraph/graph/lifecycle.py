"""``Graph``: the Python API of the lifecycle graph, over any ``GraphStore``.

    g = Graph.open("sqlite:///graph.db")              # or a workspace's: ws.graph
    g.add("rg://dataset/movielens/ratings", owner="data-eng", tags=["ratings"])
    g.add("rg://model/personalization/ranker@3")
    g.link("rg://model/personalization/ranker@3", "trained_on", "rg://dataset/movielens/ratings")
    g.lineage("rg://model/personalization/ranker@3").to_dict()

Every method takes URIs (or ``NodeKey``) and ``as_of`` (aware datetime, ISO string or
microseconds) where a past state makes sense.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any

from reelgraph.core import NotFound, backend_for, parse_time, to_us
from reelgraph.graph.commonality import ReuseCandidate, Similar, reuse_candidates, similar_models
from reelgraph.graph.derived import DEFAULT_RULES, DerivedRule, DeriveResult, derive
from reelgraph.graph.kinds import EdgeKind, NodeKind
from reelgraph.graph.lineage import Subgraph, Way, impact, path, walk
from reelgraph.graph.model import (
    ApplyResult,
    ChangeSet,
    Edge,
    EdgeSpec,
    Node,
    NodePatch,
    NodeSpec,
)
from reelgraph.graph.store import GraphStore, NodeFilter, SearchHit
from reelgraph.graph.uri import NodeKey

if TYPE_CHECKING:
    from reelgraph.core import Database

Ref = str | NodeKey
When = datetime | str | int | None


def key_of(ref: Ref) -> NodeKey:
    return ref if isinstance(ref, NodeKey) else NodeKey.parse(ref)


def as_of_us(when: When) -> int | None:
    if when is None or isinstance(when, int):
        return when
    return to_us(parse_time(when) if isinstance(when, str) else when)


def spec(ref: Ref, **fields: Any) -> NodeSpec:
    """A ``NodeSpec`` from a URI and keyword fields (owner, description, tags, ...)."""
    if "tags" in fields:
        fields["tags"] = tuple(fields["tags"])
    return NodeSpec(key_of(ref), **fields)


class Batch:
    """Writes collected and applied atomically when the ``with`` block ends without error."""

    def __init__(self, author: str) -> None:
        self.changes = ChangeSet(author=author)

    def add(self, ref: Ref, **fields: Any) -> NodeKey:
        node = spec(ref, **fields)
        self.changes.nodes.append(node)
        return node.key

    def patch(self, ref: Ref, properties: dict[str, Any] | None = None,
              unset: Sequence[str] = (), **fields: Any) -> NodeKey:
        """Change only the given fields; merge ``properties``, remove the ``unset`` ones."""
        node = NodePatch(key_of(ref), fields, properties or {}, tuple(unset))
        self.changes.patches.append(node)
        return node.key

    def expect(self, ref: Ref, revision: int) -> None:
        """Refuse the whole batch unless the node is at ``revision`` (0: does not exist)."""
        self.changes.expected[key_of(ref).uri] = revision

    def link(self, src: Ref, kind: str, dst: Ref, **properties: Any) -> None:
        self.changes.edges.append(EdgeSpec(key_of(src), kind, key_of(dst), properties))

    def unlink(self, src: Ref, kind: str, dst: Ref) -> None:
        self.changes.delete_edges.append(EdgeSpec(key_of(src), kind, key_of(dst)))

    def delete(self, ref: Ref) -> None:
        self.changes.delete_nodes.append(key_of(ref))


class Graph:
    """The lifecycle graph: typed, versioned nodes and edges in the metadata database."""

    def __init__(self, store: GraphStore, owned: Database | None = None) -> None:
        self.store = store
        self._owned = owned  # the database this graph opened itself, closed with it

    @classmethod
    def open(cls, database: Database | str) -> Graph:
        """The graph in a metadata database: an open ``Database`` (its holder closes it), or
        its URL (the graph opens the database and closes it on ``close``)."""
        from reelgraph.core import Database  # deferred: SQLAlchemy and Alembic load on open

        if isinstance(database, str):
            opened = Database.open(database)
            return cls(backend_for("metadata", opened.url)(opened), owned=opened)
        return cls(backend_for("metadata", database.url)(database))

    def close(self) -> None:
        self.store.close()
        if self._owned is not None:
            self._owned.close()

    # --- writes --------------------------------------------------------------------------

    @contextmanager
    def batch(self, author: str = "") -> Iterator[Batch]:
        batch = Batch(author)
        yield batch
        self.last_result = self.store.apply(batch.changes)

    def apply(self, changes: ChangeSet) -> ApplyResult:
        return self.store.apply(changes)

    def add(self, ref: Ref, author: str = "", expected_revision: int | None = None,
            **fields: Any) -> Node:
        """Write the node whole. With ``expected_revision`` (0 for a new node) the write is
        refused with ``RevisionConflict`` unless the node is still at that revision."""
        with self.batch(author) as b:
            key = b.add(ref, **fields)
            if expected_revision is not None:
                b.expect(key, expected_revision)
        return self.show(key)

    def update(self, ref: Ref, properties: dict[str, Any] | None = None,
               unset: Sequence[str] = (), author: str = "",
               expected_revision: int | None = None, **fields: Any) -> Node:
        """Change only the given fields of an existing node (owner, description, domain,
        tags), merge ``properties`` into its own and drop the ``unset`` ones. Applied to the
        revision current at commit, so concurrent updates of other fields are all kept."""
        with self.batch(author) as b:
            key = b.patch(ref, properties, unset, **fields)
            if expected_revision is not None:
                b.expect(key, expected_revision)
        return self.show(key)

    def link(self, src: Ref, kind: str, dst: Ref, author: str = "", **properties: Any) -> None:
        with self.batch(author) as b:
            b.link(src, kind, dst, **properties)

    def unlink(self, src: Ref, kind: str, dst: Ref, author: str = "") -> None:
        with self.batch(author) as b:
            b.unlink(src, kind, dst)

    def delete(self, ref: Ref, author: str = "") -> None:
        with self.batch(author) as b:
            b.delete(ref)

    def register_node_kind(self, name: str, description: str = "") -> None:
        self.store.register_node_kind(NodeKind(name, description))

    def register_edge_kind(self, kind: EdgeKind) -> None:
        self.store.register_edge_kind(kind)

    # --- reads ---------------------------------------------------------------------------

    def get(self, ref: Ref, as_of: When = None) -> Node | None:
        """The node as of a time, or None if it did not exist or was deleted then."""
        node = self.store.get(key_of(ref), as_of_us(as_of))
        return None if node is None or node.deleted else node

    def show(self, ref: Ref, as_of: When = None) -> Node:
        key = key_of(ref)
        node = self.store.get(key, as_of_us(as_of))
        if node is None or node.deleted:
            when = f" as of {as_of}" if as_of is not None else ""
            state = "was deleted" if node else "does not exist"
            raise NotFound(
                f"node {key.uri} {state}{when}",
                "find the right URI with `reelgraph graph search WORDS`",
            )
        return node

    def history(self, ref: Ref) -> list[Node]:
        revisions = self.store.history(key_of(ref))
        if not revisions:
            self.show(ref)  # raises NotFound with the fix
        return revisions

    def edges(self, ref: Ref, as_of: When = None) -> list[tuple[str, Edge, Node]]:
        """The node's current edges as (direction, edge, node at the other end)."""
        node = self.show(ref, as_of)
        t = as_of_us(as_of)
        out = self.store.edges([node.id], "out", None, t)
        inc = self.store.edges([node.id], "in", None, t)
        others = self.store.nodes([e.dst_id for e in out] + [e.src_id for e in inc], t)
        return [("out", e, others[e.dst_id]) for e in out if e.dst_id in others] + [
            ("in", e, others[e.src_id]) for e in inc if e.src_id in others
        ]

    def lineage(
        self,
        ref: Ref,
        way: Way = "upstream",
        depth: int = 10,
        kinds: Sequence[str] | None = None,
        as_of: When = None,
    ) -> Subgraph:
        return walk(self.store, self.show(ref, as_of), way, depth, kinds, as_of_us(as_of))

    def impact(self, ref: Ref, as_of: When = None) -> Subgraph:
        return impact(self.store, self.show(ref, as_of), as_of_us(as_of))

    def path(self, start: Ref, goal: Ref, as_of: When = None) -> list[tuple[Node, Edge | None]]:
        return path(self.store, self.show(start, as_of), self.show(goal, as_of),
                    as_of=as_of_us(as_of))

    def changes(self, after: int = 0, kinds: Sequence[str] | None = None, limit: int = 1000
                ) -> list[tuple[int, Node]]:
        """The change feed: node revisions after change id ``after`` (see GraphStore)."""
        return self.store.changes(after, kinds, limit)

    def find(self, as_of: When = None, limit: int = 1000, **where: str | None) -> list[Node]:
        return self.store.find(NodeFilter(**where), as_of_us(as_of), limit)

    def search(self, text: str, limit: int = 20, as_of: When = None, **where: str | None
               ) -> list[SearchHit]:
        return self.store.search(text, NodeFilter(**where), limit, as_of_us(as_of))

    def similar(self, ref: Ref, limit: int = 10, as_of: When = None) -> list[Similar]:
        """Models in any domain that share this model's inputs, most similar first."""
        return similar_models(self.store, self.show(ref, as_of), limit, as_of_us(as_of))

    def reuse_candidates(self, ref: Ref, min_similarity: float = 0.1, as_of: When = None
                         ) -> list[ReuseCandidate]:
        """Other domains' features and embeddings that models like this one use."""
        return reuse_candidates(self.store, self.show(ref, as_of), min_similarity,
                                as_of_us(as_of))

    def derive(self, rules: tuple[DerivedRule, ...] = DEFAULT_RULES) -> list[DeriveResult]:
        """Materialise multi-hop relations as direct edges (idempotent)."""
        return derive(self.store, rules)
