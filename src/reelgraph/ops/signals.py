"""What a window of traffic, a dataset or a model's inputs looks like, as named numbers.

Every check compares these ``Observation``s with a reference (``checks``), so a signal is
generic: it says how the answers, the members' plays, the items' exposure, the data or the
inputs behave, not which fault it expects. Distribution comparisons use SciPy
(Kolmogorov-Smirnov for scores and input features, Jensen-Shannon for exposure); between two
windows of traffic they are judged against their own null at that sample size (``drift``).
Latency is judged on the CPU time each request took (``ImpressionLog`` records it), so a
machine loaded by other work does not read as a slow recommender.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from scipy.stats import ks_2samp

from reelgraph.ops.drift import exposure_excess, sample_excess

SEGMENTS = {"new": True, "established": False}  # cold-start flag -> member segment


@dataclass(frozen=True)
class Observation:
    """Scalars (NaN: not measurable in this window) and the samples drift is measured on:
    per answered request, the items shown (``answers``) and who asked (``members``: drift's
    unit); ``scores``: the top score of each non-empty answer, in the same order."""

    scalars: dict[str, float]
    scores: np.ndarray = field(default_factory=lambda: np.empty(0))
    exposure: Counter[str] = field(default_factory=Counter)
    error: str | None = None  # the source could not be read: a failed check, not a crash
    answers: tuple[tuple[str, ...], ...] = ()
    members: tuple[str, ...] = ()

    @property
    def score_members(self) -> tuple[str, ...]:
        if not self.members:  # no members given: every score its own unit
            return tuple(str(i) for i in range(len(self.scores)))
        return tuple(m for m, a in zip(self.members, self.answers, strict=True) if a)

    @classmethod
    def pooled(cls, observations: Sequence[Observation], limit: int) -> Observation:
        """One observation of several windows' answers (at most ``limit`` requests, drawn
        at random) and exposure; scalars are not pooled."""
        rows = []  # (answer, member, its top score or None)
        for k, o in enumerate(observations):
            scores = iter(o.scores.tolist())
            # a member's requests of one window stay one unit (``drift``'s null shuffles
            # units): pooled over days they would be a unit many times a window's size
            rows += [(a, f"{k}:{m}", next(scores) if a else None)
                     for a, m in zip(o.answers, o.members, strict=True)]
        if len(rows) > limit:
            keep = np.random.default_rng(0).choice(len(rows), limit, replace=False)
            rows = [rows[i] for i in np.sort(keep)]
        exposure: Counter[str] = Counter()
        for o in observations:
            exposure.update(o.exposure)
        scores = np.array([s for _, _, s in rows if s is not None], float)
        answers = [a for a, _, _ in rows]
        members = [m for _, m, _ in rows]
        return cls({}, scores, exposure, answers=tuple(answers), members=tuple(members))

    def drift(self, other: Observation) -> dict[str, float]:
        """``score_ks`` and ``exposure_js`` against ``other``, each in standard deviations
        above its member-shuffled null (``drift``)."""
        found = {}
        if len(self.scores) and len(other.scores):
            found["score_ks"] = sample_excess(self.scores, self.score_members, other.scores,
                                              other.score_members)
        if self.answers and other.answers:
            found["exposure_js"] = exposure_excess(self.answers, self.members, other.answers,
                                                   other.members)
        return found


def _share(mask: np.ndarray) -> float:
    return float(mask.mean()) if len(mask) else float("nan")


def serving_observation(impressions: pa.Table, joined: pa.Table | None, catalog_size: int,
                        launched: frozenset[str] = frozenset()) -> Observation:
    """Serving health, prediction drift, items' exposure and (given joined outcomes) online
    quality per member segment, for one window of the impression log."""
    n = impressions.num_rows
    errors = np.array([e is not None for e in impressions["error"].to_pylist()], bool)
    latency = impressions["latency_ms"].to_numpy(zero_copy_only=False)
    items = impressions["items"].to_pylist()
    scores = impressions["scores"].to_pylist()
    ok = ~errors
    shown = [tuple(i) for i, good in zip(items, ok, strict=True) if good]
    members = [str(u) if u is not None else f"request:{r}" for u, r, good in zip(
        impressions["user"].to_pylist(), impressions["request_id"].to_pylist(), ok,
        strict=True) if good]
    exposure: Counter[str] = Counter(x for answer in shown for x in answer)
    total = sum(exposure.values())
    top = sorted(exposure.values(), reverse=True)
    fallback = np.array([f is not None for f in impressions["fallback"].to_pylist()], bool)
    cold = impressions["cold_start"].to_numpy(zero_copy_only=False).astype(bool)
    scalars = {
        "requests": float(n),
        "error_rate": _share(errors),
        **latency_signals(latency, _cpu(impressions)),
        "empty_share": _share(np.array([not a for a in shown], bool)),
        "cold_start_share": _share(cold[ok]),
        "fallback_share": _share(fallback[ok]),
        "rule_share": _share(np.array([bool(r) for r in impressions["rules"].to_pylist()],
                                      bool)[ok]),
        "coverage": len(exposure) / catalog_size if catalog_size else float("nan"),
        "top10_exposure_share": sum(top[:10]) / total if total else float("nan"),
        "launch_exposure_share": (sum(c for i, c in exposure.items() if i in launched) / total
                                  if total else float("nan")),
    }
    if joined is not None:
        scalars.update(quality(joined))
    first = np.array([s[0] for s, good in zip(scores, ok, strict=True) if good and s])
    return Observation(scalars, first, exposure, answers=tuple(shown), members=tuple(members))


def _cpu(impressions: pa.Table) -> np.ndarray | None:
    """Each request's CPU milliseconds, when most requests of the window have them."""
    if "cpu_ms" not in impressions.column_names or not impressions.num_rows:
        return None
    cpu = np.array([np.nan if c is None else c for c in impressions["cpu_ms"].to_pylist()],
                   float)
    return cpu if np.isfinite(cpu).mean() >= 0.5 else None


def latency_signals(latency: np.ndarray, cpu: np.ndarray | None) -> dict[str, float]:
    """p50 and p95 latency (p95, not p99: a window of a few hundred requests has two or
    three above its p99): of the CPU time each request took when it is logged (``cpu``:
    a machine loaded by others stretches wall-clock time, not CPU time; a recommender that
    computes more takes more of both), else of wall-clock time."""
    values, unit = (latency, "ms") if cpu is None else (cpu[np.isfinite(cpu)], "cpu_ms")
    if not len(values):
        return {f"latency_p50_{unit}": float("nan"), f"latency_p95_{unit}": float("nan")}
    return {f"latency_p50_{unit}": float(np.percentile(values, 50)),
            f"latency_p95_{unit}": float(np.percentile(values, 95))}


def quality(joined: pa.Table) -> dict[str, float]:
    """Hit rate and mean reciprocal rank of the played items, overall and per segment."""
    rank = np.array([r if r is not None else 0 for r in joined["rank"].to_pylist()], float)
    cold = np.array(joined["cold_start"].to_pylist(), bool)
    found = {"plays_joined": float(len(rank))}
    for name, rows in [("", np.ones(len(rank), bool)),
                       *[(f"_{s}", cold == flag) for s, flag in SEGMENTS.items()]]:
        part = rank[rows]
        found[f"hit_rate{name}"] = _share(part > 0)
        found[f"mrr{name}"] = float(np.where(part > 0, 1 / np.maximum(part, 1), 0).mean()
                                    ) if len(part) else float("nan")
    return found


@dataclass(frozen=True)
class Partition:
    path: Path
    arrived: float  # unix seconds: the file's name when it is a number, else its mtime
    rows: int
    columns: tuple[str, ...]  # name:type


def partitions(folder: str | Path) -> list[Partition]:
    """A dataset's Parquet partitions, oldest first (metadata only: no rows are read)."""
    found = []
    for path in Path(folder).glob("*.parquet"):
        try:
            arrived = float(path.stem)
        except ValueError:
            arrived = path.stat().st_mtime
        meta = pq.read_metadata(path)
        schema = meta.schema.to_arrow_schema()
        found.append(Partition(path, arrived, meta.num_rows,
                               tuple(f"{f.name}:{f.type}" for f in schema)))
    return sorted(found, key=lambda p: p.arrived)


def dataset_observation(folder: str | Path, start: float, end: float,
                        reference_columns: tuple[str, ...] | None) -> Observation:
    """Volume (rows arrived in ``(start, end]``), freshness (hours since the last partition at
    ``end``) and schema (whether a partition's columns differ from the reference's)."""
    if not Path(folder).is_dir():
        return Observation({}, error=f"dataset folder {folder} is missing")
    found = [p for p in partitions(folder) if p.arrived <= end]
    window = [p for p in found if p.arrived > start]
    last = found[-1].arrived if found else float("nan")
    changed = any(p.columns != reference_columns for p in window) if reference_columns else 0
    return Observation({"rows": float(sum(p.rows for p in window)),
                        "partitions": float(len(window)),
                        "hours_since_last": (end - last) / 3600,
                        "schema_changed": float(changed)})


def input_observation(reference: dict[str, np.ndarray], current: dict[str, np.ndarray]
                      ) -> Observation:
    """Per input group of the serving model's items (vectors, popularity, ...): the KS
    statistic of its values against the reference version's and the share of items whose
    values changed."""
    scalars: dict[str, float] = {}
    for name, before in reference.items():
        after = current.get(name)
        if after is None or after.shape != before.shape:
            scalars[f"{name}_changed_share"] = 1.0
            scalars[f"{name}_ks"] = 1.0
            continue
        rows = ~np.isclose(before, after, atol=1e-6).reshape(len(before), -1).all(axis=1)
        scalars[f"{name}_changed_share"] = float(rows.mean())
        scalars[f"{name}_ks"] = float(ks_2samp(before.ravel(), after.ravel()).statistic)
    return Observation(scalars)
