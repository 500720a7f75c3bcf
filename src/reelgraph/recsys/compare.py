"""Is model A better than model B on the same test requests? Paired bootstrap intervals.

Both models answered the same requests, so their per-request metrics pair up: the
difference ``a - b`` per request is resampled with replacement ``samples`` times and the
interval is the ``level`` central share of the resampled means (percentile bootstrap). A
verdict is ``win`` when the whole interval is above 0, ``loss`` when it is below 0 and
``tie`` otherwise: a difference within the noise of which requests were drawn is no win.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass

import numpy as np

from reelgraph.core import InvalidInput

SAMPLES = 2000
LEVEL = 0.95


@dataclass(frozen=True)
class Difference:
    mean: float  # mean over requests of a - b
    low: float
    high: float
    level: float

    @property
    def verdict(self) -> str:
        return "win" if self.low > 0 else "loss" if self.high < 0 else "tie"

    def to_dict(self) -> dict[str, float | str]:
        return {**asdict(self), "verdict": self.verdict}


def paired_bootstrap(a: np.ndarray, b: np.ndarray, samples: int = SAMPLES,
                     level: float = LEVEL, seed: int = 0) -> Difference:
    """The mean of ``a - b`` with its bootstrap interval over requests."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 1 or len(a) == 0:
        raise InvalidInput(f"paired metrics have shapes {a.shape} and {b.shape}",
                           "give both models' per-request metrics on the same requests")
    difference = a - b
    rng = np.random.default_rng(seed)
    means = np.empty(samples)
    for first in range(0, samples, 200):  # bounded memory on large test sets
        draws = rng.integers(0, len(difference), (min(200, samples - first), len(difference)))
        means[first:first + len(draws)] = difference[draws].mean(axis=1)
    tail = 100 * (1 - level) / 2
    low, high = np.percentile(means, [tail, 100 - tail])
    return Difference(float(difference.mean()), float(low), float(high), level)


def overall(verdicts: Iterable[str]) -> str:
    """One verdict against several baselines: a loss to any is a loss, a win needs all."""
    found = list(verdicts)
    if "loss" in found:
        return "loss"
    return "win" if found and all(v == "win" for v in found) else "tie"
