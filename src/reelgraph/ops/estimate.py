"""A label-free estimate of ranking quality: today's hit rate before the plays arrive.

Confidence-based performance estimation (as NannyML's CBPE does for classifiers), for a
ranker: on a reference period with outcomes, learn per canvas how often a request whose top
score falls in each score decile had its played item in the answer; a new window's estimate
is the mean of those rates over its requests. It assumes the score scale is that of the
reference's model version: re-fit after a promotion.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from reelgraph.core import InvalidInput
from reelgraph.ops.outcomes import join_outcomes

BINS = 10


def _top_scores(impressions: pa.Table) -> dict[str, tuple[list[str], np.ndarray]]:
    found: dict[str, tuple[list[str], list[float]]] = {}
    for row in impressions.select(["request_id", "canvas", "scores", "error"]).to_pylist():
        if row["error"] is None and row["scores"]:
            ids, scores = found.setdefault(row["canvas"], ([], []))
            ids.append(row["request_id"])
            scores.append(row["scores"][0])
    return {c: (ids, np.array(s)) for c, (ids, s) in found.items()}


@dataclass(frozen=True)
class QualityEstimator:
    edges: dict[str, np.ndarray]  # per canvas: inner decile edges of the top score
    rates: dict[str, np.ndarray]  # per canvas: hit rate per bin

    @classmethod
    def fit(cls, impressions: pa.Table, outcomes_folder: str | Path) -> QualityEstimator:
        hits = _hits(impressions, outcomes_folder)
        edges, rates = {}, {}
        for canvas, (ids, scores) in _top_scores(impressions).items():
            known = np.array([i in hits for i in ids])
            if known.sum() < BINS * 5:
                continue
            x = scores[known]
            y = np.array([hits[i] for i, k in zip(ids, known, strict=True) if k], float)
            inner = np.quantile(x, np.linspace(0, 1, BINS + 1)[1:-1])
            bins = np.searchsorted(inner, x)
            edges[canvas] = inner
            rates[canvas] = np.array([y[bins == b].mean() if (bins == b).any() else y.mean()
                                      for b in range(BINS)])
        if not rates:
            raise InvalidInput("the reference has too few requests with outcomes to learn from",
                               "fit on a longer period, with its outcomes delivered")
        return cls(edges, rates)

    def estimate(self, impressions: pa.Table) -> float:
        found: list[float] = []
        for canvas, (_, scores) in _top_scores(impressions).items():
            if canvas in self.rates:
                found.extend(self.rates[canvas][np.searchsorted(self.edges[canvas], scores)])
        return float(np.mean(found)) if found else float("nan")

    def compare(self, impressions: pa.Table, outcomes_folder: str | Path
                ) -> dict[str, float | None]:
        """The estimate and, where outcomes arrived, the realised hit rate."""
        hits = _hits(impressions, outcomes_folder)
        realised = float(np.mean(list(hits.values()))) if hits else None
        return {"estimated": self.estimate(impressions), "realised": realised}


def _hits(impressions: pa.Table, outcomes_folder: str | Path) -> dict[str, bool]:
    from reelgraph.ops.operations import read_outcomes

    times = impressions["time"].to_numpy(zero_copy_only=False)
    if not len(times):
        return {}
    joined = join_outcomes(impressions, read_outcomes(outcomes_folder, float(times.min()),
                                                      float(times.max()) + 3600.0))
    return {r["request_id"]: r["rank"] is not None
            for r in joined.select(["request_id", "rank"]).to_pylist()}
