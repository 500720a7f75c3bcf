"""Shadow: a candidate version answers replayed logged traffic beside production.

``shadow(ops, candidate)`` takes the most recent logged requests, answers each with the
production version and the candidate (interleaved: production, candidate, production
again, so both meet the same machine load), logs the candidate's answers as impressions
with environment ``shadow`` (never returned to anyone; the serving monitors skip them) and
compares, each against a production-vs-production noise baseline:

- rank-biased overlap and top-K churn with production's answers (noise: the logged answer
  against production replayed now);
- the hit rate of what members then played (given an outcomes dataset), as a paired
  difference with a bootstrap confidence interval (noise: the interval itself);
- latency as the median of each request's candidate-to-production ratio (its production
  answer timed just before, so both met the same load; noise: production's second pass
  against its first), and the p95 ratio for the record.

The candidate passes unless it is significantly worse on the hit rate (the interval lies
below zero) or slower than the latency noise allows. ``ShadowReport.metrics`` are numbers
a version can be registered with, so ``metric_at_least: shadow_passed >= 1`` is a promotion
gate in the registry.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from reelgraph.core import InvalidInput
from reelgraph.ops.impressions import ImpressionLog
from reelgraph.serving import CANARY, Deployed, Impression

if TYPE_CHECKING:
    from reelgraph.ops.operations import RecSysOps
    from reelgraph.recsys import UnifiedRecommender

SHADOW = "shadow"
PASSIVE = (SHADOW, CANARY)  # answers that are not production's: never replayed as traffic
RBO_P = 0.9  # rank-biased overlap's persistence: the top ten ranks carry ~65% of the weight
LATENCY_SLACK = 1.5  # the candidate may be this much slower than production's own noise
BOOTSTRAP = 1000


def rbo(a: tuple[str, ...], b: tuple[str, ...], p: float = RBO_P) -> float:
    """Extrapolated rank-biased overlap of two rankings of equal depth (Webber et al.,
    2010, eq. 32): 1 for the same ranking, 0 for disjoint ones."""
    depth = min(len(a), len(b))
    if depth == 0:
        return 1.0 if len(a) == len(b) else 0.0
    overlap = [len(set(a[:d]) & set(b[:d])) for d in range(1, depth + 1)]
    summed = sum(x / d * p ** d for d, x in enumerate(overlap, start=1))
    return overlap[-1] / depth * p ** depth + (1 - p) / p * summed


def churn(a: tuple[str, ...], b: tuple[str, ...]) -> float:
    """The share of ``a``'s items that ``b`` does not show."""
    return 1 - len(set(a) & set(b)) / len(a) if a else 0.0


@dataclass(frozen=True)
class ShadowReport:
    """A candidate version beside production on replayed traffic, each figure beside the
    production-vs-production noise it must exceed to mean anything."""

    candidate: str
    production: int
    requests: int
    rbo: float
    rbo_noise: float  # logged production answers against production replayed now
    churn: float
    churn_noise: float
    latency_ratio: float  # median over requests of candidate / production latency
    latency_noise_ratio: float  # the same, production's second pass against its first
    latency_p95_ratio: float
    hit_rate_delta: float | None  # candidate minus production, on what members played
    hit_rate_ci: tuple[float, float] | None  # 95% paired bootstrap interval
    plays: int
    passed: bool
    reasons: tuple[str, ...]

    @property
    def metrics(self) -> dict[str, float]:
        """Numbers to register the candidate with (a gate reads ``shadow_passed``)."""
        found = {"shadow_rbo": self.rbo, "shadow_churn": self.churn,
                 "shadow_latency_ratio": self.latency_ratio,
                 "shadow_passed": float(self.passed)}
        if self.hit_rate_delta is not None:
            found["shadow_hit_rate_delta"] = self.hit_rate_delta
        return found

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "metrics": self.metrics}


@dataclass
class _Pass:
    answers: list[tuple[str, ...]]
    latency_ms: list[float]


def _answer(deployed: Deployed, row: dict[str, Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    request = deployed.recommender.request(
        row["canvas"], user=row["user"], item=row["item"], query=row["query"],
        category=row["category"], k=int(row["k"]),
        context=json.loads(row["context"] or "{}"))
    found = deployed.answer_online(request)
    return found, (time.perf_counter() - started) * 1000


def shadow(ops: RecSysOps, candidate: int | UnifiedRecommender, sample: int = 300,
           outcomes: str | None = None, horizon_s: float = 3600.0, seed: int = 0
           ) -> ShadowReport:
    """Run ``candidate`` (a registered version, or a model not yet registered) in shadow
    on the ``sample`` most recent logged requests."""
    if not 1 <= sample <= 100_000:
        raise InvalidInput(f"sample={sample} is out of range", "replay 1 to 100,000 requests")
    ops.production_version()  # no model in production: say that first
    rows = [r for r in ops.impressions().to_pylist()
            if r["error"] is None and r["items"] and r["environment"] not in PASSIVE]
    if not rows:
        raise InvalidInput("no logged requests to replay in shadow",
                           "serve some traffic with the impression log on first")
    return compare(ops, candidate, rows[-sample:], outcomes, horizon_s, seed, log=True)


def compare(ops: RecSysOps, candidate: int | UnifiedRecommender, rows: list[dict[str, Any]],
            outcomes: str | None, horizon_s: float = 3600.0, seed: int = 0,
            log: bool = False) -> ShadowReport:
    """Answer logged requests (impression rows) with production and ``candidate`` and
    compare them (``log``: record the candidate's answers as shadow impressions)."""
    production = ops.production_version()
    if isinstance(candidate, int):
        shadowed, name = ops.deployed(candidate), f"v{candidate}"
    else:
        shadowed, name = Deployed.of(candidate), candidate.model_version
    base = ops.deployed(production)
    first, second, cand = _Pass([], []), _Pass([], []), _Pass([], [])
    assert ops.impressions_root is not None
    with ImpressionLog(ops.impressions_root, clock=ops.clock) as sink:
        for row in rows:
            for deployed, into in ((base, first), (shadowed, cand), (base, second)):
                found, ms = _answer(deployed, row)
                into.answers.append(tuple(i for i, _ in found.items))
                into.latency_ms.append(ms)
                if into is cand and log:
                    sink.record(Impression(
                        f"shadow-{row['request_id']}", row["canvas"],
                        {n: row[n] for n in ("user", "item", "query", "category", "k")},
                        json.loads(row["context"] or "{}"), found.model_version, SHADOW, None,
                        tuple(i for i, _ in found.items), tuple(s for _, s in found.items),
                        ms, found.cold_start))
    # The noise: what production answered then (or, for a canary's own requests, its
    # second pass) against production now.
    logged = [tuple(r["items"]) if r["environment"] != CANARY else again
              for r, again in zip(rows, second.answers, strict=True)]
    hits = _hits(ops, rows, first.answers, cand.answers, outcomes, horizon_s)
    delta, ci = None, None
    if hits is not None and len(hits[0]):
        diff = hits[1] - hits[0]
        delta = float(diff.mean())
        draws = np.random.default_rng(seed).integers(0, len(diff), (BOOTSTRAP, len(diff)))
        means = diff[draws].mean(axis=1)
        ci = (float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5)))
    base_ms = np.maximum(np.array(first.latency_ms), 1e-6)
    latency_ratio = float(np.median(np.array(cand.latency_ms) / base_ms))
    noise = float(np.median(np.array(second.latency_ms) / base_ms))
    noise_ratio = max(noise, 1 / noise)
    p95_ratio = float(np.percentile(cand.latency_ms, 95) / np.percentile(first.latency_ms, 95))
    reasons = []
    if delta is not None and ci is not None and ci[1] < 0:
        reasons.append(f"hit rate lower by {-delta:.3f} (95% CI {ci[0]:+.3f}..{ci[1]:+.3f})")
    if latency_ratio > LATENCY_SLACK * noise_ratio:
        reasons.append(f"latency {latency_ratio:.2f}x production's (noise "
                       f"{noise_ratio:.2f}x)")
    return ShadowReport(
        name, production, len(rows),
        float(np.mean([rbo(c, p) for c, p in zip(cand.answers, first.answers, strict=True)])),
        float(np.mean([rbo(g, p) for g, p in zip(logged, first.answers, strict=True)])),
        float(np.mean([churn(p, c) for c, p in zip(cand.answers, first.answers, strict=True)])),
        float(np.mean([churn(g, p) for g, p in zip(logged, first.answers, strict=True)])),
        latency_ratio, noise_ratio, p95_ratio, delta, ci, 0 if hits is None else len(hits[0]),
        not reasons, tuple(reasons))


def default_outcomes(ops: RecSysOps) -> str | None:
    """The outcomes dataset a serving monitor joins (the plays shadow answers are judged on)."""
    for monitor in ops.monitors():
        if monitor.kind == "serving" and monitor.source.get("outcomes"):
            return str(monitor.source["outcomes"])
    return None


def _hits(ops: RecSysOps, rows: list[dict[str, Any]], production: list[tuple[str, ...]],
          candidate: list[tuple[str, ...]], outcomes: str | None, horizon_s: float
          ) -> tuple[np.ndarray, np.ndarray] | None:
    """Per play that followed a replayed request (same member, within ``horizon_s``):
    whether production's answer and the candidate's held the played item."""
    if outcomes is None:
        return None
    from reelgraph.ops.operations import read_outcomes

    start = min(r["time"] for r in rows)
    plays = read_outcomes(ops.path(outcomes), start, max(r["time"] for r in rows) + horizon_s)
    by_user: dict[str, list[tuple[float, str]]] = {}
    for play in plays.to_pylist():
        by_user.setdefault(play["user"], []).append((play["time"], play["item"]))
    found: list[tuple[bool, bool]] = []
    for row, prod, cand in zip(rows, production, candidate, strict=True):
        for at, item in by_user.get(str(row["user"]), []):
            if row["time"] <= at < row["time"] + horizon_s:
                found.append((item in prod, item in cand))
    table = np.array(found, float).reshape(-1, 2)
    return table[:, 0], table[:, 1]
