"""Evaluate any scorer on a canvas's test requests: full ranking over every allowed item.

A ``Scorer`` gives every item a score for every request; evaluation drops the items the
canvas does not allow (``candidates.allowed``), ranks the rest and averages the metrics.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from reelgraph.recsys.candidates import allowed
from reelgraph.recsys.metrics import CUTOFFS, METRICS, ranking_metrics, top_k
from reelgraph.recsys.requests import EvalExamples, Requests
from reelgraph.recsys.timeline import Timeline

BATCH = 256


class Scorer(Protocol):
    """What evaluation ranks with: the model, or a baseline."""

    def scores(self, requests: Requests) -> np.ndarray:
        """float (requests, items): higher is better."""
        ...


def rank(scorer: Scorer, requests: Requests, timeline: Timeline, category_matrix: np.ndarray,
         k: int) -> tuple[np.ndarray, np.ndarray]:
    """(top-k items, their scores) per request, among the items its canvas allows."""
    scores = np.asarray(scorer.scores(requests), dtype=np.float64)
    scores = np.where(allowed(requests, timeline, category_matrix, scores.shape[1]),
                      scores, -np.inf)
    top = top_k(scores, k)
    return top, np.take_along_axis(scores, top, axis=1)


def per_request(scorer: Scorer, examples: EvalExamples, timeline: Timeline,
                category_matrix: np.ndarray) -> dict[str, np.ndarray]:
    """Recall@10, Recall@20 and NDCG@10 of each request (for paired comparisons)."""
    parts: dict[str, list[np.ndarray]] = {m: [np.empty(0)] for m in METRICS}
    for first in range(0, len(examples), BATCH):
        batch = examples.take(np.arange(first, min(first + BATCH, len(examples))))
        top, _ = rank(scorer, batch.requests, timeline, category_matrix, max(CUTOFFS))
        for name, values in ranking_metrics(top, batch.relevant).items():
            parts[name].append(values)
    return {name: np.concatenate(v) for name, v in parts.items()}


def summary(values: dict[str, np.ndarray]) -> dict[str, float]:
    """Per-request metrics as their means, and how many requests there were."""
    requests = len(next(iter(values.values()), ()))
    means = {name: float(np.mean(v)) if requests else 0.0 for name, v in values.items()}
    return {**means, "requests": float(requests)}


def evaluate(scorer: Scorer, examples: EvalExamples, timeline: Timeline,
             category_matrix: np.ndarray) -> dict[str, float]:
    """Mean Recall@10, Recall@20, NDCG@10 over the requests, and how many there were."""
    return summary(per_request(scorer, examples, timeline, category_matrix))
