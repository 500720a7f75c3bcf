"""Walks over the graph: upstream/downstream lineage, impact analysis, paths.

Each walk goes hop by hop with one batched query per hop (both directions at once, see
``GraphStore.reach``), so its cost grows with the size of the answer, not of the graph.
Lineage follows the flow of each edge kind (see ``kinds.LineageFlow``); ``NONE`` edges are not
lineage and are walked only by ``path``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from reelgraph.core import InvalidInput
from reelgraph.graph.kinds import KindRegistry, LineageFlow
from reelgraph.graph.model import Edge, Json, Node
from reelgraph.graph.store import GraphStore

Way = Literal["upstream", "downstream"]
IMPACT_KINDS = ("deployment", "consumer", "experiment", "monitor")
MAX_DEPTH = 50


@dataclass
class Subgraph:
    """The answer of a walk: nodes with their hop distance from the root, and the edges used."""

    root: Node
    nodes: dict[int, Node] = field(default_factory=dict)
    depth: dict[int, int] = field(default_factory=dict)
    edges: list[Edge] = field(default_factory=list)
    parent: dict[int, int] = field(default_factory=dict)  # node id -> id it was reached from

    def of_kind(self, *kinds: str) -> list[Node]:
        return sorted(
            (n for n in self.nodes.values() if n.key.kind in kinds and n.id != self.root.id),
            key=lambda n: (self.depth[n.id], n.uri),
        )

    def to_dict(self) -> Json:
        return {
            "root": self.root.uri,
            "nodes": [
                {**n.to_dict(), "depth": self.depth.get(n.id, 0)}
                for n in sorted(self.nodes.values(), key=lambda n: (self.depth[n.id], n.uri))
            ],
            "edges": [
                {
                    "src": self.nodes[e.src_id].uri,
                    "kind": e.kind,
                    "dst": self.nodes[e.dst_id].uri,
                    "properties": e.properties,
                }
                for e in self.edges
                if e.src_id in self.nodes and e.dst_id in self.nodes
            ],
        }


def _flow_kinds(
    registry: KindRegistry, kinds: Sequence[str] | None
) -> tuple[list[str], list[str]]:
    """Split the lineage edge kinds (optionally filtered) into UP and DOWN flows."""
    if kinds:
        for kind in kinds:
            registry.edge_kind(kind)
    chosen = set(kinds) if kinds else None
    up = [k.name for k in registry.edge_kinds.values()
          if k.flow == LineageFlow.UP and (chosen is None or k.name in chosen)]
    down = [k.name for k in registry.edge_kinds.values()
            if k.flow == LineageFlow.DOWN and (chosen is None or k.name in chosen)]
    return sorted(up), sorted(down)


def walk(
    store: GraphStore,
    root: Node,
    way: Way,
    depth: int = 10,
    kinds: Sequence[str] | None = None,
    as_of: int | None = None,
) -> Subgraph:
    """Every node within ``depth`` hops upstream or downstream of ``root``."""
    if not 1 <= depth <= MAX_DEPTH:
        raise InvalidInput(f"depth {depth} is out of range", f"use a depth from 1 to {MAX_DEPTH}")
    up, down = _flow_kinds(store.registry(), kinds)
    # Upstream: follow UP edges forwards and DOWN edges backwards; downstream: the reverse.
    forward, backward = (up, down) if way == "upstream" else (down, up)
    result = Subgraph(root, {root.id: root}, {root.id: 0})
    # The store walks on one connection; nodes are fetched once, at the end.
    for hop, found in enumerate(store.reach(root.id, forward, backward, depth, as_of), start=1):
        fresh: set[int] = set()
        for edge, origin, target in found:
            result.edges.append(edge)
            if target not in result.depth and target not in fresh:
                fresh.add(target)
                result.parent[target] = origin
        for node_id in fresh:
            result.depth[node_id] = hop
    reached = sorted(node_id for node_id in result.depth if node_id != root.id)
    result.nodes.update(store.nodes(reached, as_of))
    # Edges into deleted or not-yet-fetched nodes are dropped from the answer.
    result.edges = [
        e for e in result.edges if e.src_id in result.nodes and e.dst_id in result.nodes
    ]
    return result


def impact(store: GraphStore, root: Node, as_of: int | None = None) -> Subgraph:
    """Everything downstream of ``root``; ``of_kind(*IMPACT_KINDS)`` lists who is affected."""
    return walk(store, root, "downstream", depth=MAX_DEPTH, as_of=as_of)


def path(
    store: GraphStore, start: Node, goal: Node, max_hops: int = 12, as_of: int | None = None
) -> list[tuple[Node, Edge | None]]:
    """A shortest chain of edges (either direction, any kind) from ``start`` to ``goal``.

    Returns [(start, None), (next, edge used), ..., (goal, edge)], or [] when none is found
    within ``max_hops``.
    """
    parent: dict[int, tuple[int, Edge] | None] = {start.id: None}
    frontier = [start.id]
    for _ in range(max_hops):
        if goal.id in parent or not frontier:
            break
        fresh: list[int] = []
        steps = [(e, e.src_id, e.dst_id) for e in store.edges(frontier, "out", None, as_of)]
        steps += [(e, e.dst_id, e.src_id) for e in store.edges(frontier, "in", None, as_of)]
        for edge, origin, target in sorted(steps, key=lambda s: s[0].id):
            if target not in parent:
                parent[target] = (origin, edge)
                fresh.append(target)
        frontier = fresh
    if goal.id not in parent:
        return []
    chain: list[tuple[int, Edge | None]] = []
    node_id: int = goal.id
    while True:
        step = parent[node_id]
        chain.append((node_id, step[1] if step else None))
        if step is None:
            break
        node_id = step[0]
    chain.reverse()
    nodes = store.nodes([node_id for node_id, _ in chain], as_of)
    return [(nodes[node_id], edge) for node_id, edge in chain if node_id in nodes]
