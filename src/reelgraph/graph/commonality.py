"""What models have in common, and which features one domain could reuse from another.

A model's *inputs* are the datasets, features and embeddings upstream of it, found
transitively (through ``derived_from`` and every other lineage edge). Each input weighs

    w(model, x) = idf(x) * DECAY ** (hops(model, x) - 1)

so direct inputs count most and inputs that every model shares (a raw event log) count
little. Two models' similarity is the weighted Jaccard index
``sum(min(w_a, w_b)) / sum(max(w_a, w_b))`` over the union of their inputs.
Versions of one model (same kind, namespace and name) are one family and never compared.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from reelgraph.core import InvalidInput
from reelgraph.graph.lineage import walk
from reelgraph.graph.model import Json, Node
from reelgraph.graph.store import GraphStore

INPUT_KINDS = ("dataset", "feature", "embedding")
REUSABLE_KINDS = ("feature", "embedding")
DECAY = 0.5
DEPTH = 8


@dataclass(frozen=True)
class Similar:
    """A model similar to another by the inputs they share."""
    model: Node
    score: float
    shared: tuple[Node, ...]  # inputs both models use, heaviest first

    def to_dict(self) -> Json:
        return {
            "model": self.model.uri,
            "domain": self.model.domain,
            "owner": self.model.owner,
            "score": round(self.score, 4),
            "shared": [n.uri for n in self.shared],
        }


@dataclass(frozen=True)
class ReuseCandidate:
    """An input a similar model uses that this model does not (a reuse suggestion)."""
    input: Node  # a feature or embedding the model does not use yet
    used_by: Node  # the similar model that uses it
    similarity: float

    def to_dict(self) -> Json:
        return {
            "input": self.input.uri,
            "domain": self.input.domain,
            "owner": self.input.owner,
            "used_by": self.used_by.uri,
            "used_by_domain": self.used_by.domain,
            "similarity": round(self.similarity, 4),
        }


def _family(node: Node) -> tuple[str, str, str]:
    return (node.key.kind, node.key.namespace, node.key.name)


class _Inputs:
    """Input hop distances per model, computed once per model and reused."""

    def __init__(self, store: GraphStore, as_of: int | None) -> None:
        self.store = store
        self.as_of = as_of
        self.cache: dict[int, dict[int, int]] = {}
        self.nodes: dict[int, Node] = {}

    def of(self, model: Node) -> dict[int, int]:
        if model.id not in self.cache:
            sub = walk(self.store, model, "upstream", DEPTH, as_of=self.as_of)
            self.nodes.update(sub.nodes)
            self.cache[model.id] = {
                n.id: sub.depth[n.id] for n in sub.nodes.values() if n.key.kind in INPUT_KINDS
            }
        return self.cache[model.id]


def similar_models(
    store: GraphStore, model: Node, limit: int = 10, as_of: int | None = None
) -> list[Similar]:
    if model.key.kind != "model":
        raise InvalidInput(
            f"{model.uri} is a {model.key.kind}, not a model",
            "ask for models similar to a node of kind 'model'",
        )
    inputs = _Inputs(store, as_of)
    mine = inputs.of(model)
    if not mine:
        return []
    # Candidates: every model downstream of one of my inputs; df counts how many use each.
    candidates: dict[int, Node] = {}
    users: dict[int, set[int]] = {}
    for input_id in mine:
        sub = walk(store, inputs.nodes[input_id], "downstream", DEPTH, as_of=as_of)
        models = [n for n in sub.nodes.values() if n.key.kind == "model"]
        users[input_id] = {m.id for m in models}
        candidates.update((m.id, m) for m in models if _family(m) != _family(model))
    population = max(len(candidates) + 1, 1)

    def idf(input_id: int) -> float:
        return math.log(1 + population / max(len(users.get(input_id, ())), 1))

    def weights(hops: dict[int, int]) -> dict[int, float]:
        return {x: idf(x) * DECAY ** (d - 1) for x, d in hops.items()}

    w_mine = weights(mine)
    results = []
    for other in candidates.values():
        w_other = weights(inputs.of(other))
        union = w_mine.keys() | w_other.keys()
        top = sum(min(w_mine.get(x, 0.0), w_other.get(x, 0.0)) for x in union)
        bottom = sum(max(w_mine.get(x, 0.0), w_other.get(x, 0.0)) for x in union)
        if top > 0:
            shared = sorted(w_mine.keys() & w_other.keys(),
                            key=lambda x: (-min(w_mine[x], w_other[x]), inputs.nodes[x].uri))
            results.append(Similar(other, top / bottom, tuple(inputs.nodes[x] for x in shared)))
    results.sort(key=lambda s: (-s.score, s.model.uri))
    return results[:limit]


def reuse_candidates(
    store: GraphStore, model: Node, min_similarity: float = 0.1, as_of: int | None = None
) -> list[ReuseCandidate]:
    """Features and embeddings that similar models use and this model does not, best first.

    Only inputs owned by another domain than the model's count: the point is to surface work
    a team would not otherwise see.
    """
    inputs = _Inputs(store, as_of)
    mine = set(inputs.of(model))
    best: dict[int, ReuseCandidate] = {}
    for sim in similar_models(store, model, limit=50, as_of=as_of):
        if sim.score < min_similarity:
            continue
        for input_id, hops in inputs.of(sim.model).items():
            node = inputs.nodes[input_id]
            if (
                hops == 1
                and node.key.kind in REUSABLE_KINDS
                and input_id not in mine
                and node.domain != model.domain
                and (input_id not in best or best[input_id].similarity < sim.score)
            ):
                best[input_id] = ReuseCandidate(node, sim.model, sim.score)
    return sorted(best.values(), key=lambda c: (-c.similarity, c.input.uri))
