"""Explain a logged answer: which inputs drove each recommended item's score.

``explain(ops, request_id)`` rebuilds the logged request as ``replay`` does (the logged
model version, the logged inputs and time) and asks the model for Shapley values of its
inputs (``UnifiedRecommender.explain``: history items, query n-grams, source item,
category, context features, the item's popularity), per item of the logged answer. The
values of one item add up to its score minus the score with every input switched off.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from reelgraph.core import InvalidInput
from reelgraph.ops.replay import find_impression

if TYPE_CHECKING:
    from reelgraph.ops.operations import RecSysOps

TOP = 5  # contributions shown per item


@dataclass(frozen=True)
class Contribution:
    feature: str  # kind:key, e.g. history:318, query:mat, context:query_length, popularity
    value: float

    @property
    def kind(self) -> str:
        return self.feature.split(":", 1)[0]


@dataclass(frozen=True)
class ItemExplanation:
    item: str
    rank: int
    score: float  # as the model scores it now from the logged inputs
    baseline: float  # with every input off
    contributions: tuple[Contribution, ...]  # largest magnitude first

    def to_dict(self) -> dict[str, Any]:
        return {"item": self.item, "rank": self.rank, "score": self.score,
                "baseline": self.baseline,
                "contributions": [{"feature": c.feature, "kind": c.kind, "value": c.value}
                                  for c in self.contributions]}


@dataclass(frozen=True)
class Explanation:
    """Why a logged answer ranked its items: per item, the inputs that moved its score."""

    request_id: str
    model_version: int
    canvas: str
    items: tuple[ItemExplanation, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"request_id": self.request_id, "model_version": self.model_version,
                "canvas": self.canvas, "items": [i.to_dict() for i in self.items]}


def explain(ops: RecSysOps, request_id: str, top: int = TOP, samples: int = 32
            ) -> Explanation:
    """Attribute each of the logged request's ``top`` items' scores to its inputs (Shapley
    values by sampling ``samples`` permutations), replayed on the logged model version."""
    from reelgraph.ops.operations import version_number

    if not 1 <= top <= 100:
        raise InvalidInput(f"top={top} is out of range", "show 1 to 100 inputs per item")
    row = find_impression(ops, request_id)
    if row["error"] is not None or not row["items"]:
        raise InvalidInput(f"request {request_id} has no answer to explain ({row['error']})",
                           "pick a request that returned items")
    version = version_number(row["model_version"])
    recommender = ops.deployed(version).recommender
    request = recommender.request(
        row["canvas"], user=row["user"], item=row["item"], query=row["query"],
        category=row["category"], k=int(row["k"]),
        context=json.loads(row["context"] or "{}"))
    found = recommender.explain(request, list(row["items"]), samples)
    explained = []
    for rank, item in enumerate(found.items, start=1):
        values = found.values[rank - 1]
        order = sorted(range(len(values)), key=lambda j: -abs(values[j]))[:top]
        explained.append(ItemExplanation(
            item, rank, float(found.scores[rank - 1]), float(found.baseline[rank - 1]),
            tuple(Contribution(found.features[j], float(values[j])) for j in order)))
    return Explanation(request_id, version, row["canvas"], tuple(explained))
