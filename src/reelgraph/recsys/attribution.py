"""Which inputs drove a recommended item's score: Shapley values with Captum.

The inputs of one request become switchable features: each history item, each query
n-gram, the source item, the category, each context feature the canvas has, and the
recommended item's popularity features (stored, and as of the request). Switching a
feature off is what the model already does for a missing input (an item left out of the
history mean, an n-gram out of the query, a context feature replaced by its learned
default, the popularity features zeroed), so every coalition is a request the model
could have been asked. Captum's ``ShapleyValueSampling`` averages each feature's marginal
effect over random orders from "everything off" to the request as asked; the values of
one item sum to its score minus the score with everything off. Attribution is over the
scorer's public parts and returns NumPy, so no caller needs PyTorch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
import torch
from captum.attr import ShapleyValueSampling

from reelgraph.recsys.batch import Bag, RequestInputs
from reelgraph.recsys.canvases import DENSE_FEATURES
from reelgraph.recsys.ragged import Ragged
from reelgraph.recsys.text import TextEncoder, plain

if TYPE_CHECKING:
    from reelgraph.recsys.recommender import RecommendRequest, UnifiedRecommender

SAMPLES = 32  # random orders per item: Shapley values settle to a few per cent


@dataclass(frozen=True)
class Attributions:
    """``values[i, j]``: feature ``j``'s share of item ``items[i]``'s score."""

    items: tuple[str, ...]
    scores: np.ndarray  # (items,) the score as asked
    baseline: np.ndarray  # (items,) the score with every feature off
    features: tuple[str, ...]  # e.g. "history:318", "query:abc", "context:query_length"
    values: np.ndarray  # (items, features)


@dataclass(frozen=True)
class _Features:
    history: np.ndarray  # item rows of the history bag
    query: np.ndarray  # n-gram buckets of the query bag
    dense: np.ndarray  # columns of the present context features
    source: bool
    category: bool
    popularity: bool

    @property
    def names(self) -> list[tuple[str, int]]:
        return ([("history", int(i)) for i in self.history]
                + [("query", int(b)) for b in self.query]
                + [("context", int(c)) for c in self.dense]
                + [("source", 0)] * self.source + [("category", 0)] * self.category
                + [("popularity", 0)] * self.popularity)


def _masked(inputs: RequestInputs, features: _Features, on: torch.Tensor,
            n_items: int, buckets: int) -> RequestInputs:
    """One request row per row of ``on`` (bool, (rows, features)), with the off features
    removed as the model removes a missing input."""
    rows = on.numpy()
    h, q, d = len(features.history), len(features.query), len(features.dense)
    history = Ragged.from_rows([features.history[r[:h]] for r in rows], np.int64)
    query = Ragged.from_rows([features.query[r[h:h + q]] for r in rows], np.int64)
    dense_mask = inputs.dense_mask.repeat(len(rows), 1)
    dense_mask[:, torch.from_numpy(features.dense)] = torch.from_numpy(rows[:, h + q:h + q + d])
    at = h + q + d

    def switch(flag: bool, has: torch.Tensor) -> torch.Tensor:
        nonlocal at
        if not flag:
            return has.repeat(len(rows))
        column = torch.from_numpy(rows[:, at].copy())
        at += 1
        return column

    def repeat(t: torch.Tensor) -> torch.Tensor:
        return t.repeat(len(rows))

    return replace(
        inputs, canvas=repeat(inputs.canvas), user=repeat(inputs.user),
        has_user=repeat(inputs.has_user), history=Bag.of(history, n_items),
        has_history=torch.from_numpy(history.lengths > 0), source=repeat(inputs.source),
        has_source=switch(features.source, inputs.has_source),
        category=repeat(inputs.category),
        has_category=switch(features.category, inputs.has_category),
        query=Bag.of(query, buckets), has_query=torch.from_numpy(query.lengths > 0),
        dense=inputs.dense.repeat(len(rows), 1), dense_mask=dense_mask)


def explain(recommender: UnifiedRecommender, request: RecommendRequest,
            items: Sequence[str], samples: int = SAMPLES, seed: int = 0) -> Attributions:
    """Shapley values of the request's inputs for each of ``items`` (item ids)."""
    index = recommender.vocabulary.item_index
    columns = torch.tensor([index[i] for i in items], dtype=torch.long)
    timeline = request.timeline or recommender.timeline
    scorer = recommender.scorer if request.timeline is None else recommender.scorer.on(timeline)
    net = recommender.net
    inputs = scorer.featurize(request.requests)
    query = request.requests.query[0]
    features = _Features(
        request.requests.histories(timeline, net.config.history).row(0).astype(np.int64),
        recommender.encoder.encode([query]).row(0).astype(np.int64),
        np.flatnonzero(inputs.dense_mask[0].numpy()),
        bool(inputs.has_source[0]), bool(inputs.has_category[0]),
        recommender.items.popularity is not None or net.config.fresh_popularity)
    # popularity as of the request (a (1, items) row, or 0.0): part of the popularity feature
    fresh = net.fresh_scores(inputs, columns)
    right = net.item_side(scorer.item_vectors, scorer.titles)[columns]
    right_plain = right
    if recommender.items.popularity is not None:
        from reelgraph.recsys.batch import ItemInputs

        plain = replace(recommender.items, popularity=np.zeros_like(recommender.items.popularity))
        vectors, titles = net.items(ItemInputs.of(plain))
        right_plain = net.item_side(vectors, titles)[columns]
    n_items, buckets = net.config.n_items, recommender.encoder.buckets
    names = features.names

    def forward(on: torch.Tensor) -> torch.Tensor:
        masked = _masked(inputs, features, on > 0.5, n_items, buckets)
        left = net.request_side(masked, scorer.item_vectors)
        if not features.popularity:
            return left @ right.T
        popular = (on[:, -1] > 0.5).unsqueeze(1)
        return torch.where(popular, left @ right.T + fresh, left @ right_plain.T)

    everything = torch.ones(1, len(names))
    torch.manual_seed(seed)  # Captum draws its orders from torch's generator
    with torch.no_grad():
        asked = forward(everything)[0].numpy()
        nothing = forward(torch.zeros(1, len(names)))[0].numpy()
        shapley = ShapleyValueSampling(forward)
        values = np.stack([
            shapley.attribute(everything, baselines=0.0, target=t, n_samples=samples,
                              perturbations_per_eval=max(len(names), 1)).numpy()[0]
            for t in range(len(items))]) if names else np.zeros((len(items), 0))
    return Attributions(tuple(items), asked, nothing,
                        tuple(_label(recommender, kind, key, query) for kind, key in names),
                        values.astype(np.float64))


def _label(recommender: UnifiedRecommender, kind: str, key: int, query: str) -> str:
    if kind == "history":
        return f"history:{recommender.vocabulary.item_ids[key]}"
    if kind == "context":
        return f"context:{DENSE_FEATURES[key]}"
    if kind == "query":
        return f"query:{_gram(recommender.encoder, query, key)}"
    return kind


def _gram(encoder: TextEncoder, query: str, bucket: int) -> str:
    """A readable name for the query n-gram in ``bucket``: the trigram of the query it
    comes from, else its word (a label, not a proof: buckets are hashed)."""
    words = plain(query).split()
    for piece in [w[i:i + 3] for w in words for i in range(max(len(w) - 2, 1))] + words:
        if bucket in encoder.grams(piece):
            return piece
    return f"#{bucket}"
