"""Derived links: multi-hop relations materialised as direct edges where users need them.

A ``DerivedRule`` names a chain of edges (kind and direction per hop) from a start kind to
an end kind and the edge kind that short-cuts it, e.g. model --produced_by--> run
--part_of--> experiment_cell --part_of--> experiment gives model --in_experiment-->
experiment. ``derive`` is idempotent: it adds missing short-cuts, closes those whose chain
is gone, and writes nothing when the graph already agrees. Each derived edge carries the
property ``derived_by`` (the rule's name), so hand-made edges of the same kind are never
touched.
"""

from __future__ import annotations

from dataclasses import dataclass

from reelgraph.graph.model import ChangeSet, EdgeSpec, Node
from reelgraph.graph.store import Direction, GraphStore, NodeFilter


@dataclass(frozen=True)
class DerivedRule:
    name: str
    start_kind: str
    hops: tuple[tuple[str, Direction], ...]
    end_kind: str
    edge_kind: str


MODEL_IN_EXPERIMENT = DerivedRule(
    name="model-in-experiment",
    start_kind="model",
    hops=(("produced_by", "out"), ("part_of", "out"), ("part_of", "out")),
    end_kind="experiment",
    edge_kind="in_experiment",
)
DEFAULT_RULES = (MODEL_IN_EXPERIMENT,)


@dataclass(frozen=True)
class DeriveResult:
    rule: str
    added: int
    removed: int
    kept: int


def _targets(store: GraphStore, rule: DerivedRule, starts: list[Node]) -> set[tuple[int, int]]:
    pairs: set[tuple[int, int]] = set()
    reach: dict[int, set[int]] = {n.id: {n.id} for n in starts}
    for kind, direction in rule.hops:
        frontier = sorted({i for ids in reach.values() for i in ids})
        step: dict[int, set[int]] = {}
        for edge in store.edges(frontier, direction, [kind]):
            origin, target = (edge.src_id, edge.dst_id) if direction == "out" else (
                edge.dst_id, edge.src_id)
            step.setdefault(origin, set()).add(target)
        reach = {s: {t for i in ids for t in step.get(i, ())} for s, ids in reach.items()}
    ends = store.nodes(sorted({i for ids in reach.values() for i in ids}))
    for start, ids in reach.items():
        pairs.update((start, i) for i in ids if i in ends and ends[i].key.kind == rule.end_kind)
    return pairs


def derive(store: GraphStore, rules: tuple[DerivedRule, ...] = DEFAULT_RULES
           ) -> list[DeriveResult]:
    results = []
    for rule in rules:
        starts = store.find(NodeFilter(kind=rule.start_kind), limit=10_000_000)
        wanted = _targets(store, rule, starts)
        existing = {
            (e.src_id, e.dst_id)
            for e in store.all_edges([rule.edge_kind])
            if e.properties.get("derived_by") == rule.name
        }
        add, remove = wanted - existing, existing - wanted
        if add or remove:
            nodes = store.nodes(sorted({i for pair in add | remove for i in pair}))
            changes = ChangeSet(author=f"derive:{rule.name}")
            changes.edges = [
                EdgeSpec(nodes[s].key, rule.edge_kind, nodes[d].key, {"derived_by": rule.name})
                for s, d in sorted(add) if s in nodes and d in nodes
            ]
            changes.delete_edges = [
                EdgeSpec(nodes[s].key, rule.edge_kind, nodes[d].key)
                for s, d in sorted(remove) if s in nodes and d in nodes
            ]
            store.apply(changes)
        results.append(DeriveResult(rule.name, len(add), len(remove), len(wanted & existing)))
    return results
