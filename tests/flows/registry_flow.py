"""A small real flow for the registry tests: a popularity recommender on a tiny ratings table.

It reads a dataset and a feature node (so its run ``reads`` them in the graph), fits "the
most rated items" and scores the fit by hit rate on held-out ratings. Tests load it with
``load_flow`` (as ``reelgraph run`` does); ``seed`` adds the nodes it reads.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from reelgraph.flows import Flow, StepContext
from reelgraph.graph import Graph

DATASET = "rg://dataset/movielens/tiny-ratings"
FEATURE = "rg://feature/personalization/item-counts"
RATINGS = [  # (user, item, rating); the last rating of each user is held out
    (1, "a", 5), (1, "b", 4), (1, "c", 3), (2, "a", 4), (2, "c", 5), (2, "b", 2),
    (3, "b", 5), (3, "a", 3), (3, "d", 4), (4, "a", 5), (4, "b", 3), (4, "c", 4),
]

flow = Flow("popularity", namespace="personalization", params={"top_k": 2},
            owner="perso-team", description="most-rated items")


@flow.step(reads=[DATASET])
def ratings(ctx: StepContext) -> list[tuple[int, str, int]]:
    ctx.read(FEATURE)
    return RATINGS


@flow.step
def model(ratings: list[tuple[int, str, int]], top_k: int) -> dict[str, Any]:
    held_out = _held_out(ratings)
    counts = Counter(row[1] for row in ratings if row not in held_out)
    return {"top": [item for item, _ in counts.most_common(top_k)], "counts": dict(counts)}


@flow.step
def score(model: dict[str, Any], ratings: list[tuple[int, str, int]]) -> dict[str, float]:
    held_out = _held_out(ratings)
    hits = sum(1 for _, item, _ in held_out if item in model["top"])
    return {"hit_rate": hits / len(held_out)}


def _held_out(ratings: list[tuple[int, str, int]]) -> list[tuple[int, str, int]]:
    last: dict[int, tuple[int, str, int]] = {}
    for row in ratings:
        last[row[0]] = row
    return list(last.values())


def seed(graph: Graph) -> None:
    with graph.batch("test") as b:
        b.add(DATASET, owner="data-eng", description="tiny ratings table")
        b.add(FEATURE, owner="perso-team", description="ratings per item")
        b.link(FEATURE, "derived_from", DATASET)


failing = Flow("broken", namespace="personalization")


@failing.step
def boom() -> int:
    raise RuntimeError("no model today")
