"""A canary that aborts itself: a candidate version serves a share of live traffic.

    start_canary(ops, version=4, share=0.1, window_s=86_400, who="ana")
    check_canary(ops)        # on the checks' schedule (``schedule.py``) or on demand
    promote_canary(ops, who="ana")   # once it has held for its window

While it runs, the ``Overlay`` sends each member in ``share`` (a stable hash of their id)
to the candidate; the service logs those answers with environment ``canary``. A check
replays the canary's own logged requests with production and the candidate and compares
them on shadow's signals, each against production-vs-production noise (``shadow.compare``).
When the candidate is significantly worse it aborts by itself: traffic goes back to
production (the overlay stops splitting), an alert and an incident are recorded, and the
registry archives the version with the reason. When it has held for its window it can be
promoted to production through the registry's gates.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from reelgraph.core import Conflict, InvalidInput, NotFound
from reelgraph.ops.resolution import record_hotfix
from reelgraph.ops.shadow import ShadowReport, compare
from reelgraph.ops.store import Alert, Canary
from reelgraph.serving import CANARY

if TYPE_CHECKING:
    from reelgraph.ops.incidents import Incident
    from reelgraph.ops.operations import RecSysOps

RUNNING, ABORTED, PROMOTED, STOPPED = "running", "aborted", "promoted", "stopped"
MIN_REQUESTS = 30  # fewer canary answers than this are not judged yet


@dataclass(frozen=True)
class CanaryCheck:
    """One check of the running canary: its comparison, and what came of it."""

    canary: Canary
    requests: int
    report: ShadowReport | None  # None: too few canary requests to judge yet
    outcome: str  # waiting, holding, held (may be promoted), aborted
    incident: Incident | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"canary": self.canary.to_dict(), "requests": self.requests,
                "outcome": self.outcome,
                "report": None if self.report is None else self.report.to_dict(),
                "incident": None if self.incident is None else self.incident.uri}


def running(ops: RecSysOps) -> Canary | None:
    found = [c for c in ops.store.canaries() if c.status == RUNNING]
    return found[-1] if found else None


def _running(ops: RecSysOps) -> Canary:
    found = running(ops)
    if found is None:
        raise NotFound("no canary is running",
                       "start one with `reelgraph ops canary start VERSION`")
    return found


def start_canary(ops: RecSysOps, version: int, share: float, window_s: float, who: str
                 ) -> Canary:
    """Send ``share`` of the members to ``version`` (moved to staging) for ``window_s``."""
    if not 0 < share <= 0.5:
        raise InvalidInput(f"share={share} is out of range",
                           "give a canary 0 < share <= 0.5 of the members")
    if not window_s > 0:
        raise InvalidInput("a canary's window must be positive",
                           "give --window in seconds, e.g. 86400")
    production = ops.production_version()
    candidate = ops.registry.version(ops.model, version)  # NotFound for an unknown one
    if candidate.version == production:
        raise Conflict(f"v{version} is already in production",
                       "canary a candidate version, not the production one")
    if running(ops) is not None:
        raise Conflict("a canary is already running",
                       "promote or stop it first (`reelgraph ops canary stop`)")
    if candidate.stage != "staging":
        ops.registry.promote(ops.model, version, "staging", who,
                             f"canary: {share:.0%} of members")
    return ops.store.add_canary(version, production, share, ops.clock(), window_s, who)


def check_canary(ops: RecSysOps, outcomes: str | None = None, horizon_s: float = 3600.0,
                 min_requests: int = MIN_REQUESTS) -> CanaryCheck | None:
    """Judge the running canary on its logged requests (None: no canary runs); aborts it
    when the candidate is worse than production beyond the noise."""
    canary = running(ops)
    if canary is None:
        return None
    now = ops.clock()
    rows = [r for r in ops.impressions(canary.started_at).to_pylist()
            if r["environment"] == CANARY and r["error"] is None and r["items"]
            and r["model_version"] is not None
            and r["model_version"].endswith(f"@{canary.version}")]
    if len(rows) < min_requests:
        return CanaryCheck(canary, len(rows), None, "waiting")
    report = compare(ops, canary.version, rows, outcomes, horizon_s)
    if not report.passed:
        return _abort(ops, canary, report, len(rows), now)
    held = now - canary.started_at >= canary.window_s
    return CanaryCheck(canary, len(rows), report, "held" if held else "holding")


def _abort(ops: RecSysOps, canary: Canary, report: ShadowReport, requests: int, at: float
           ) -> CanaryCheck:
    reason = "; ".join(report.reasons)
    ops.store.end_canary(canary.id, at, ABORTED, reason)  # traffic back to production first
    watched = ops.registry.version(ops.model, canary.version).uri
    node = ops.ws.graph.get(watched)
    owner = node.owner if node is not None and node.owner else canary.who
    detail = {"canary": canary.id, "version": canary.version, "reasons": list(report.reasons)}
    incident = ops.incidents.open_or_join(watched, at, canary.window_s,
                                          f"canary v{canary.version} aborted", "critical",
                                          owner, detail)
    ops.store.add_alert(Alert(0, f"canary:{canary.id}", watched, owner, at, "canary",
                              report.hit_rate_delta, None, "critical",
                              f"canary v{canary.version} aborted: {reason}", incident.uri,
                              None))
    record_hotfix(ops, incident.uri, "hotfix", "recsysops",
                  {"action": "canary aborted", **detail})
    ops.registry.promote(ops.model, canary.version, "archived", "recsysops",
                         f"canary aborted: {reason}")
    return CanaryCheck(_ended(ops, canary.id), requests, report, ABORTED,
                       ops.incidents.get(incident.uri))


def _ended(ops: RecSysOps, canary_id: int) -> Canary:
    return next(c for c in ops.store.canaries() if c.id == canary_id)


def promote_canary(ops: RecSysOps, who: str, outcomes: str | None = None,
                   min_requests: int = MIN_REQUESTS) -> Canary:
    """Promote the running canary's version once it has held for its window (checked
    now); refused, with nothing changed, before that or when it fails."""
    found = check_canary(ops, outcomes, min_requests=min_requests)
    if found is None:
        raise NotFound("no canary is running",
                       "start one with `reelgraph ops canary start VERSION`")
    if found.outcome != "held":
        raise Conflict(f"canary v{found.canary.version} is {found.outcome}, not held for "
                       "its window", "check it again when its window has passed")
    ops.registry.promote_to_production(ops.model, found.canary.version, who,
                                       f"canary held for {found.canary.window_s:.0f} s")
    ops.store.end_canary(found.canary.id, ops.clock(), PROMOTED, "held for its window")
    return _ended(ops, found.canary.id)


def stop_canary(ops: RecSysOps, who: str) -> Canary:
    """End the running canary by hand (traffic back to production; the version stays
    in staging)."""
    canary = _running(ops)
    ops.store.end_canary(canary.id, ops.clock(), STOPPED, f"stopped by {who}")
    return _ended(ops, canary.id)
