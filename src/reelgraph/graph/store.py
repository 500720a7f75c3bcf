"""The ``GraphStore`` protocol: the one seam between the graph's logic and its storage.

Implementations (``sql/sqlite.py``, ``sql/postgres.py``) share one SQL store. Rules every
implementation keeps:

- ``apply`` is atomic: a change set is stored whole or not at all, and a validation error
  leaves the store untouched.
- Writes never overwrite: a changed node gets a new revision valid from the write time, the
  old one stays readable with ``as_of``. Deleting a node writes a tombstone revision and
  closes its edges. Writing a node or edge identical to its current state is a no-op, so
  repeating a write (or an ingestion event) changes nothing.
- ``as_of`` is microseconds since the epoch (UTC); ``None`` means now.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Protocol

from reelgraph.graph.kinds import EdgeKind, KindRegistry, NodeKind
from reelgraph.graph.model import ApplyResult, ChangeSet, Edge, Node, NodeSpec
from reelgraph.graph.uri import NodeKey

if TYPE_CHECKING:
    from reelgraph.core import Database

Direction = Literal["out", "in"]
# One step of a walk: (edge, node it was reached from, node it leads to).
Step = tuple[Edge, int, int]


@dataclass(frozen=True)
class NodeFilter:
    kind: str | None = None
    namespace: str | None = None
    domain: str | None = None
    owner: str | None = None
    tag: str | None = None


@dataclass(frozen=True)
class SearchHit:
    """A node found by search, with its score."""
    node: Node
    score: float


class GraphStore(Protocol):
    """The graph's storage; the rules it keeps (atomic ``apply``, no overwrite, ``as_of``
    in UTC µs, change ids in commit order) are in this module's docstring."""

    url: str
    database: Database  # the metadata database it keeps its tables in

    def registry(self) -> KindRegistry:
        """The node and edge kinds registered in this store."""
        ...

    def register_node_kind(self, kind: NodeKind) -> None:
        """Add a node kind (registering the same one again is a no-op)."""
        ...

    def register_edge_kind(self, kind: EdgeKind) -> None:
        """Add an edge kind (registering the same one again is a no-op)."""
        ...

    def apply(self, changes: ChangeSet) -> ApplyResult:
        """Store a change set whole or not at all; identical writes are no-ops."""
        ...

    def bulk_load(self, nodes: Iterable[NodeSpec], edges: Iterable[tuple[str, str, str]]) -> None:
        """Fast first load of a large graph: edges are (src uri, kind, dst uri).

        Skips per-edge kind checks and history comparison; only for an empty store.
        """
        ...

    def get(self, key: NodeKey, as_of: int | None = None) -> Node | None:
        """The node's revision valid at ``as_of`` (tombstones included), or None."""
        ...

    def nodes(self, ids: Sequence[int], as_of: int | None = None) -> dict[int, Node]:
        """Live (not deleted) nodes by id."""
        ...

    def history(self, key: NodeKey) -> list[Node]:
        """Every revision of the node, oldest first (tombstones included)."""
        ...

    def edges(
        self,
        node_ids: Sequence[int],
        direction: Direction,
        kinds: Sequence[str] | None = None,
        as_of: int | None = None,
    ) -> list[Edge]:
        """Edges leaving (``out``) or entering (``in``) any of the nodes."""
        ...

    def reach(
        self,
        root_id: int,
        forward: Sequence[str],
        backward: Sequence[str],
        depth: int,
        as_of: int | None = None,
    ) -> list[list[Step]]:
        """Breadth-first from ``root_id``, on one connection and snapshot for the whole walk.

        ``forward`` kinds are followed from source to destination, ``backward`` kinds from
        destination to source. Returns one list per hop walked: the steps leaving that hop's
        frontier, forward ones first. The next frontier is the targets not seen before; the
        walk stops after ``depth`` hops or at the first hop that finds nothing new.
        """
        ...

    def all_edges(self, kinds: Sequence[str] | None = None, as_of: int | None = None
                  ) -> Iterator[Edge]:
        """Every edge valid at ``as_of`` (of the given kinds), streamed."""
        ...

    def find(self, where: NodeFilter, as_of: int | None = None, limit: int = 1000,
             terms: Sequence[str] = ()) -> list[Node]:
        """Nodes matching ``where`` (and holding every lower-case term in their text)."""

    def search(
        self, text: str, where: NodeFilter, limit: int = 20, as_of: int | None = None
    ) -> list[SearchHit]:
        """Full-text search over names, descriptions and properties, best match first."""
        ...

    def changes(self, after: int, kinds: Sequence[str] | None = None, limit: int = 1000
                ) -> list[tuple[int, Node]]:
        """Node revisions written after change id ``after``, oldest first, as (id, node).

        Change ids grow in commit order (writers are serialised), so a reader that keeps the
        last id it saw misses nothing: the graph's history doubles as its change feed.
        """
        ...

    def close(self) -> None:
        """Release the store's connections."""
        ...
