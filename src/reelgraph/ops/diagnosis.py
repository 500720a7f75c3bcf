"""Diagnosis of an incident: inputs or model, with evidence, and the candidate root causes.

The window ends at the first alert and starts at the last check of the alerting monitors
that passed, or one monitor window before the alert if that is earlier (a fault may stay
under the thresholds for a while before it is caught).

- **Candidates**: the nodes upstream of what the incident affects that changed in the graph
  in that window (change feed ids recorded by each check), the sources whose own monitors
  failed, and overlay rules written in the window or, before it, applied to the affected
  answers; ranked by evidence (a failed monitor of their own first), then by how close
  before the alert they changed.
- **Verdict**: ``inputs`` when a dataset or input monitor failed, when the serving version
  changed but its inputs moved (which group, how far), or when overlay rules rewrote the
  affected answers; ``model`` when the version changed with identical inputs (and the
  previous production version, re-scoring the affected requests, behaves: its quality is
  given); ``serving`` when the affected requests replay identically in isolation, so neither
  inputs nor model explain the failed health signals; ``unknown`` otherwise.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from reelgraph.ops.operations import HEALTH, item_inputs, version_number
from reelgraph.ops.outcomes import join_outcomes
from reelgraph.ops.replay import replay_row
from reelgraph.ops.signals import input_observation, quality

if TYPE_CHECKING:
    import pyarrow as pa

    from reelgraph.ops.operations import RecSysOps

SKIP_KINDS = ("monitor", "incident", "run", "job", "artifact")
REPLAY_SAMPLE = 50
MOVED = 1e-3  # share of items whose input changed that counts as "moved"


@dataclass(frozen=True)
class Candidate:
    uri: str
    reason: str
    score: float


@dataclass(frozen=True)
class Diagnosis:
    incident: str
    verdict: str  # inputs, model, serving, unknown
    evidence: list[str]
    candidates: list[Candidate]
    window: tuple[float, float]

    def to_dict(self) -> dict[str, Any]:
        return {"incident": self.incident, "verdict": self.verdict, "evidence": self.evidence,
                "candidates": [asdict(c) for c in self.candidates], "window": self.window}


def diagnose(ops: RecSysOps, incident_uri: str, record: bool = True,
             outcomes: pa.Table | None = None) -> Diagnosis:
    """Diagnose an incident (and write the verdict and candidates on it)."""
    incident = ops.incidents.get(incident_uri)
    alerts = sorted(ops.alerts(incident=incident.uri, limit=10_000), key=lambda a: a.at)
    first = alerts[0].at if alerts else incident.opened_at
    # An aborted canary's alert names the canary, not a monitor: it has no check series.
    monitors = {a.monitor: ops.monitor(a.monitor) for a in alerts
                if a.monitor.startswith("rg://monitor/")}
    good = [ops.store.last_passing(m, first) for m in monitors]
    window = max((m.window_s for m in monitors.values()), default=86_400.0)
    start = min([g.at for g in good if g is not None] + [first - window])
    change = ops.store.change_at(start)
    failed = {m: [a for a in alerts if a.monitor == m] for m in monitors}
    evidence: list[str] = []
    verdict = _verdict(ops, monitors, failed, start, first, evidence, outcomes)
    found = candidates(ops, incident.affects, monitors, failed, change, start, first)
    diagnosis = Diagnosis(incident.uri, verdict, evidence, found[:3], (start, first))
    if record:
        ops.incidents.update(incident.uri, ops.clock(), "reelgraph ops", "diagnosis",
                             diagnosis.to_dict(), verdict=verdict,
                             root_causes=[c.uri for c in diagnosis.candidates])
    return diagnosis


def _verdict(ops: RecSysOps, monitors: dict[str, Any], failed: dict[str, list[Any]],
             start: float, first: float, evidence: list[str], outcomes: pa.Table | None
             ) -> str:
    for uri, monitor in monitors.items():
        if monitor.kind in ("dataset", "inputs"):
            evidence.append(f"{monitor.kind} monitor {uri} failed: {failed[uri][0].message}")
            return "inputs"
    window = max(m.window_s for m in monitors.values()) if monitors else 86_400.0
    affected = ops.impressions(first - window, first + 1e-6)
    before = ops.impressions(start - window, start)
    served = _versions(ops.impressions(start - window, first + 1e-6))
    if len(served) > 1:  # the version serving changed around the failure
        old, new = served[0], served[-1]
        moved = input_observation(item_inputs(ops.recommender(old)),
                                  item_inputs(ops.recommender(new))).scalars
        groups = {k.removesuffix("_changed_share"): v for k, v in moved.items()
                  if k.endswith("_changed_share") and v > MOVED}
        evidence.append(f"the serving version changed from v{old} to v{new}")
        if groups:
            evidence += [f"input {g} changed for {v:.1%} of items between the versions "
                         f"(KS {moved[g + '_ks']:.3f})" for g, v in groups.items()]
            return "inputs"
        evidence.append("the versions' inputs are identical: the weights differ")
        if outcomes is not None:
            evidence.append(_rescored(ops, affected, outcomes, old, new))
        return "model"
    share_now, share_before = _rule_share(affected), _rule_share(before)
    if share_now > 0 and share_now > 1.5 * share_before:
        evidence.append(f"overlay rules rewrote {share_now:.1%} of the affected answers "
                        f"(reference {share_before:.1%})")
        return "inputs"
    rows = [r for r in affected.to_pylist() if r["error"] is None][:REPLAY_SAMPLE]
    same = sum(replay_row(ops, r, cross=False).identical for r in rows)
    health = {a.signal for alerts in failed.values() for a in alerts} & set(HEALTH)
    if rows and same == len(rows):
        evidence.append(f"{same}/{len(rows)} affected requests replay identically with the "
                        "logged version and inputs")
        if health:
            evidence.append(f"failed health signals: {', '.join(sorted(health))}: the "
                            "serving environment, not the inputs or the model")
            return "serving"
        return "unknown"
    if rows:
        evidence.append(f"only {same}/{len(rows)} affected requests replay identically: "
                        "their inputs changed (or scoring is not deterministic)")
        return "inputs"
    return "unknown"


def _versions(impressions: pa.Table) -> list[int]:
    """The versions that answered, in the order they first did (impressions by time)."""
    seen = dict.fromkeys(version_number(v) for v in impressions["model_version"].to_pylist()
                         if v)
    return list(seen)


def _rule_share(impressions: pa.Table) -> float:
    rules = impressions["rules"].to_pylist()
    return float(np.mean([bool(r) for r in rules])) if rules else 0.0


def _rescored(ops: RecSysOps, affected: pa.Table, outcomes: pa.Table, old: int, new: int
              ) -> str:
    """The affected requests' quality as logged and re-scored by the previous version."""
    from reelgraph.ops.replay import answer

    rows = [r for r in affected.to_pylist() if r["error"] is None]
    rescored = []
    for row in rows:
        items = answer(ops, row, old)
        rescored.append({**row, "items": [i for i, _ in items],
                         "scores": [s for _, s in items]})
    import pyarrow as pa

    logged = quality(join_outcomes(affected, outcomes))["hit_rate"]
    again = quality(join_outcomes(pa.Table.from_pylist(rescored, affected.schema),
                                  outcomes))["hit_rate"]
    return (f"re-scored by v{old}, the affected requests' hit rate is {again:.3f} "
            f"(v{new} as logged: {logged:.3f})")


def candidates(ops: RecSysOps, affects: tuple[str, ...], monitors: dict[str, Any],
               failed: dict[str, list[Any]], change: int, start: float, first: float
               ) -> list[Candidate]:
    graph = ops.ws.graph
    upstream: set[str] = set(affects)
    for uri in affects:
        sub = graph.lineage(uri, "upstream", depth=6)
        upstream |= {n["uri"] for n in sub.to_dict()["nodes"]}
    scores: dict[str, Candidate] = {}

    def offer(uri: str, reason: str, score: float) -> None:
        if uri not in scores or scores[uri].score < score:
            scores[uri] = Candidate(uri, reason, score)

    for uri, monitor in monitors.items():
        if monitor.kind in ("dataset", "inputs"):
            for watched in monitor.watches:
                offer(watched, f"its monitor {uri} failed", 3.0)
            groups = monitor.extra.get("groups", {})
            for row in ops.store.checks(uri, limit=200):
                if not row.passed and row.at == failed[uri][0].at:
                    group = row.signal.removesuffix("_changed_share").removesuffix("_ks")
                    if group in groups:
                        offer(groups[group], f"input {group} moved ({row.signal} = "
                              f"{row.value:.3g})", 3.5)
    quiet = {w for m in ops.monitors() if m.uri not in monitors for w in m.watches}
    changed = graph.changes(after=max(change - 1, 0), limit=100_000)
    latest = max((cid for cid, _ in changed), default=change)
    for cid, node in changed:
        if node.kind in SKIP_KINDS or node.uri not in upstream:
            continue
        recency = (cid - change) / max(latest - change, 1)  # later changes rank higher
        if node.uri in quiet:  # changed, but its own monitor saw nothing wrong
            offer(node.uri, "changed in the window; its own monitor passed",
                  1.5 + 0.1 * recency)
        else:
            offer(node.uri, f"changed (revision {node.revision}) in the window",
                  2.0 + recency)
    # A rule written in the window; or, ranked below, one written before it that rewrote
    # the affected answers (a fault caught more than a window late: its rule predates it).
    window = max((m.window_s for m in monitors.values()), default=86_400.0)
    rewrote = Counter(r for applied in ops.impressions(first - window, first + 1e-6)["rules"]
                      .to_pylist() for r in applied or ())
    for rule in ops.store.rules():
        said = (f"overlay rule {rule.id}: {rule.action} {rule.item} on {rule.canvas} by "
                f"{rule.who}; it rewrote {rewrote[str(rule.id)]} affected answers")
        if start <= rule.created_at <= first:
            offer(f"rule:{rule.id}", said, 2.5)
        elif rewrote[str(rule.id)] and rule.created_at < start:
            offer(f"rule:{rule.id}", f"{said} (written before the window)", 2.0)
    for uri in affects:
        offer(uri, "affected, no change found upstream", 1.0)
    return sorted(scores.values(), key=lambda c: -c.score)
