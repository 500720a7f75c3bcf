"""Drift between two windows of answers, judged against its own null at the same sample size.

A distance between two samples (Jensen-Shannon between exposure distributions, the
Kolmogorov-Smirnov statistic between top scores) grows as the samples shrink, even when
nothing changed: a quiet day's 200 answers sit farther from last week's than a busy day's
2,000. So a raw distance compared with the reference days' spread alarms on volume, not on
change. Here each distance is reported as its excess over a permutation null built from the
two windows themselves: the members are shuffled between the windows (every request of one
member in one window moves together: a member's answers are alike, so the request is not
the independent unit), drawn into the first window until it holds as many requests as the
observed one (so the null is at that window's size, whatever the other's), the distance is
recomputed for each shuffle, and the observed distance is given in standard deviations above
the shuffles' mean. The statistics themselves come from
SciPy.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from scipy.sparse import csr_matrix
from scipy.spatial.distance import jensenshannon
from scipy.stats import ks_2samp

ROUNDS = 100  # shuffles per null: enough for its mean and spread, cheap per check
MIN_SPREAD = 1e-6  # a null of identical shuffles (one member per side) is not a zero spread


def units(members: Sequence[str]) -> np.ndarray:
    """Each request's unit: the index of its member among the window's members."""
    _, index = np.unique(np.asarray(members, dtype=object).astype(str), return_inverse=True)
    return index.reshape(-1)


def _shuffles(sizes: np.ndarray, target: int, rounds: int, seed: int) -> np.ndarray:
    """(rounds, units) bool: the units drawn, in random order, into the first window until
    it holds ``target`` requests (whole units: its size matches the observed window's)."""
    rng = np.random.default_rng(seed)
    order = np.argsort(rng.random((rounds, len(sizes))), axis=1)
    ordered = sizes[order]
    before = np.cumsum(ordered, axis=1) - ordered
    chosen = np.zeros((rounds, len(sizes)), bool)
    np.put_along_axis(chosen, order, before < target, axis=1)
    return chosen


def _excess(observed: float, null: np.ndarray) -> float:
    return float((observed - null.mean()) / max(float(null.std()), MIN_SPREAD))


def exposure_excess(a: Sequence[Sequence[str]], a_members: Sequence[str],
                    b: Sequence[Sequence[str]], b_members: Sequence[str],
                    rounds: int = ROUNDS, seed: int = 0) -> float:
    """The Jensen-Shannon distance between the exposure of answers ``a`` and ``b`` (one
    list of shown items per request, with the member who asked), in null standard
    deviations above its member-shuffled null; NaN when a window has no exposure."""
    if not any(a) or not any(b):
        return float("nan")
    unit_a, unit_b = units(a_members), units(b_members)
    n_a = int(unit_a.max()) + 1
    rows = np.concatenate([unit_a, n_a + unit_b])
    vocabulary: dict[str, int] = {}
    cells, cols = [], []
    for row, answer in zip(rows, [*a, *b], strict=True):
        for item in answer:
            cells.append(row)
            cols.append(vocabulary.setdefault(item, len(vocabulary)))
    n = n_a + int(unit_b.max()) + 1
    counts = csr_matrix((np.ones(len(cells)), (cells, cols)), shape=(n, len(vocabulary)))
    total = np.asarray(counts.sum(axis=0)).ravel()
    side_a = np.asarray(counts[:n_a].sum(axis=0)).ravel()
    observed = float(jensenshannon(side_a, total - side_a, base=2))
    sizes = np.bincount(rows, minlength=n)
    chosen = _shuffles(sizes, len(a), rounds, seed).astype(float)
    shuffled = np.asarray((counts.T @ chosen.T).T)
    rest = total[None, :] - shuffled
    usable = (shuffled.sum(axis=1) > 0) & (rest.sum(axis=1) > 0)
    if not usable.any():
        return float("nan")
    null = jensenshannon(shuffled[usable], rest[usable], axis=1, base=2)
    return _excess(observed, np.asarray(null, float))


def sample_excess(a: np.ndarray, a_members: Sequence[str], b: np.ndarray,
                  b_members: Sequence[str], rounds: int = ROUNDS, seed: int = 0,
                  minimum: int = 5) -> float:
    """The two-sample Kolmogorov-Smirnov statistic between ``a`` and ``b`` (one value per
    request, with its member), in null standard deviations above its member-shuffled null;
    NaN when a window has fewer than ``minimum`` values."""
    if len(a) < minimum or len(b) < minimum:
        return float("nan")
    unit_a, unit_b = units(a_members), units(b_members)
    n_a = int(unit_a.max()) + 1
    n = n_a + int(unit_b.max()) + 1
    rows = np.concatenate([unit_a, n_a + unit_b])
    values = np.concatenate([a, b])

    def statistic(in_a: np.ndarray) -> float:
        picked = in_a[rows]
        if picked.all() or not picked.any():
            return float("nan")
        return float(ks_2samp(values[picked], values[~picked], method="asymp").statistic)

    observed = statistic(np.arange(n) < n_a)
    null = _null(statistic, _shuffles(np.bincount(rows, minlength=n), len(a), rounds, seed))
    return _excess(observed, null) if len(null) else float("nan")


def _null(statistic: Callable[[np.ndarray], float], shuffles: np.ndarray) -> np.ndarray:
    found = np.array([statistic(chosen) for chosen in shuffles], float)
    finite: np.ndarray = found[np.isfinite(found)]
    return finite
