"""Answers computed ahead of requests, many at a time: for nearline and batch hosting.

``targets`` lists what a canvas would be asked about: each item (related), each known user
(notifications), each known user and category (category); users the model never saw get
online cold-start answers instead. ``score_targets`` ranks them in batches through the
model's full scorer (one matrix product per batch), at the model's "now".
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from reelgraph.core import InvalidInput
from reelgraph.recsys.canvases import canvas
from reelgraph.recsys.evaluation import rank
from reelgraph.recsys.recommender import UnifiedRecommender, serving_key
from reelgraph.recsys.requests import Requests

BATCH = 256


@dataclass(frozen=True)
class Targets:
    """The requests of one canvas to precompute, as dense ids (-1: not an input)."""

    canvas: str
    user: np.ndarray
    source: np.ndarray
    category: np.ndarray

    def __len__(self) -> int:
        return len(self.user)

    def take(self, rows: slice) -> Targets:
        return Targets(self.canvas, self.user[rows], self.source[rows], self.category[rows])


@dataclass(frozen=True)
class ScoredBatch:
    keys: list[str]  # serving keys (``serving_key``)
    users: list[str | None]
    sources: list[str | None]
    categories: list[str | None]
    items: list[list[str]]  # best first
    scores: list[list[float]]


def targets(recommender: UnifiedRecommender, canvas_name: str,
            users: Sequence[str] | None = None) -> Targets:
    """What to precompute for a canvas (``users``: only these users; default every user the
    model knows)."""
    spec = canvas(canvas_name)
    if spec.name == "search":
        raise InvalidInput("search cannot be precomputed: its queries are free text",
                           "host search online")
    if not spec.takes_user:  # related: one answer per item
        n = len(recommender.vocabulary.item_ids)
        none = np.full(n, -1, np.int32)
        return Targets(spec.name, none, np.arange(n, dtype=np.int32), none)
    dense = _users(recommender, users)
    if not spec.within_category:
        none = np.full(len(dense), -1, np.int32)
        return Targets(spec.name, dense, none, none)
    n_categories = len(recommender.vocabulary.categories)
    user = np.repeat(dense, n_categories)
    category = np.tile(np.arange(n_categories, dtype=np.int32), len(dense))
    return Targets(spec.name, user, np.full(len(user), -1, np.int32), category)


def _users(recommender: UnifiedRecommender, users: Sequence[str] | None) -> np.ndarray:
    if users is None:
        return np.flatnonzero(recommender.known_users).astype(np.int32)
    index = recommender.vocabulary.user_index
    unknown = [u for u in users if str(u) not in index]
    if unknown:
        raise InvalidInput(f"user(s) {', '.join(map(str, unknown[:5]))} are not in the "
                           "model's vocabulary",
                           "precompute only users the model was trained with; others get "
                           "cold-start answers online")
    return np.array([index[str(u)] for u in users], dtype=np.int32)


def score_targets(recommender: UnifiedRecommender, found: Targets, k: int,
                  batch: int = BATCH) -> Iterator[ScoredBatch]:
    spec = canvas(found.canvas)
    vocabulary = recommender.vocabulary
    for first in range(0, len(found), batch):
        part = found.take(slice(first, first + batch))
        requests = Requests.build(
            spec, recommender.timeline, np.full(len(part), recommender.now),
            user=part.user if spec.takes_user else None,
            source=part.source if spec.excludes_source else None,
            category=part.category if spec.within_category else None)
        top, scores = rank(recommender.scorer, requests, recommender.timeline,
                           recommender.items.category_matrix, k)
        users = [vocabulary.user_ids[u] if u >= 0 else None for u in part.user]
        sources = [vocabulary.item_ids[i] if i >= 0 else None for i in part.source]
        categories = [vocabulary.categories[c] if c >= 0 else None for c in part.category]
        finite = np.isfinite(scores)
        yield ScoredBatch(
            keys=[serving_key(spec, user=u, item=s, category=c)
                  for u, s, c in zip(users, sources, categories, strict=True)],
            users=users, sources=sources, categories=categories,
            items=[[vocabulary.item_ids[i] for i in row[ok]]
                   for row, ok in zip(top, finite, strict=True)],
            scores=[row[ok].tolist() for row, ok in zip(scores, finite, strict=True)])
