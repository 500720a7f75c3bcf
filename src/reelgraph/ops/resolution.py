"""Hotfixes, each one call, reversible, audited in the registry or the rule table, and
recorded on the incident's timeline (and so in the graph):

- ``rollback``: the model's previous production version back into production (through the
  registry's stages and gates; the serving watcher swaps it in);
- ``add_rule`` / ``remove_rule``: block, pin or boost an item on a canvas, with an expiry
  (the ``Overlay`` applies it at serving, no retraining);
- ``redeploy``: reload and re-index the serving version (a serving process's own hotfix);
- ``switch_canvas`` (``switches``) and ``invalidate`` / ``recompute`` (``invalidation``).

A hotfix that cannot be applied raises before it changes anything. ``resolve`` walks the
review (could it have been caught sooner? is the check automatic now? was everything at
hand? was the fix one command?) and can add the monitor that would have caught it.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from reelgraph.core import Conflict, InvalidInput, NotFound
from reelgraph.ops.incidents import MITIGATED, RESOLVED, Incident
from reelgraph.ops.overlay import ACTIONS
from reelgraph.ops.store import Rule

if TYPE_CHECKING:
    from reelgraph.ops.operations import RecSysOps
    from reelgraph.serving import RecommendationService

REVIEW = ("could it have been detected sooner or predicted?", "is the check now automatic?",
          "was everything needed to decide at hand?", "was the hotfix a couple of clicks?")


def previous_production(ops: RecSysOps) -> int:
    """The version that was in production before the current one."""
    current = ops.production_version()
    for move in reversed(ops.registry.history(ops.model)):
        if (move.from_stage == "production" and move.to_stage == "archived"
                and move.outcome == "applied" and move.version != current):
            return move.version
    raise Conflict(f"{ops.model} has had no production version before v{current}",
                   "there is nothing to roll back to; fix forward or switch to a rule overlay")


def record_hotfix(ops: RecSysOps, incident: str | None, kind: str, who: str,
                  detail: dict[str, Any]) -> None:
    """Put a hotfix on the incident's timeline (an open incident becomes mitigated)."""
    if incident:
        current = ops.incidents.get(incident)
        status = MITIGATED if current.status == "open" else None
        ops.incidents.update(incident, ops.clock(), who, kind, detail, status=status)


def rollback(ops: RecSysOps, who: str, incident: str | None = None, why: str = "") -> int:
    """Put the previous production version back; returns its number."""
    if incident:
        ops.incidents.get(incident)  # an unknown incident changes nothing
    target = previous_production(ops)
    current = ops.production_version()
    reason = why or f"rollback from v{current}" + (f" ({incident})" if incident else "")
    ops.registry.promote_to_production(ops.model, target, who=who, why=reason)
    record_hotfix(ops, incident, "hotfix", who, {"action": "rollback", "from": current,
                                           "to": target})
    return target


def check_canvas(canvas: str, everywhere: bool = True) -> None:
    """Refuse an unknown canvas name (``*``, every canvas, when ``everywhere``)."""
    from reelgraph.recsys import CANVAS_NAMES

    if canvas == "*" and everywhere:
        return
    if canvas not in CANVAS_NAMES:
        raise InvalidInput(f"unknown canvas {canvas!r}",
                           f"use one of {', '.join(CANVAS_NAMES)}" + (" or *" if everywhere
                                                                       else ""))


def check_expiry(seconds: float, what: str) -> None:
    """Refuse an expiry that is not a finite time in the future (NaN compares false)."""
    if not (math.isfinite(seconds) and seconds > 0):
        raise InvalidInput(f"{what}'s expiry must be a finite time in the future, not {seconds}",
                           "give --expires-in as a positive number of seconds")


def add_rule(ops: RecSysOps, canvas: str, item: str, action: str, who: str,
             expires_in_s: float | None = None, weight: float = 1.0,
             incident: str | None = None) -> Rule:
    if action not in ACTIONS:
        raise InvalidInput(f"unknown rule action {action!r}", f"use one of {', '.join(ACTIONS)}")
    check_canvas(canvas)
    if expires_in_s is not None:
        check_expiry(expires_in_s, "a rule")
    if incident:
        ops.incidents.get(incident)
    now = ops.clock()
    rule = ops.store.add_rule(canvas, item, action, weight, now,
                              None if expires_in_s is None else now + expires_in_s, who,
                              incident)
    record_hotfix(ops, incident, "hotfix", who, {"action": action, "rule": rule.to_dict()})
    return rule


def remove_rule(ops: RecSysOps, rule_id: int, who: str, incident: str | None = None) -> None:
    if not ops.store.remove_rule(rule_id, ops.clock()):
        raise NotFound(f"no active rule {rule_id}",
                       "list the rules with `reelgraph ops rules` and pass an active one's id")
    record_hotfix(ops, incident, "hotfix", who, {"action": "remove rule", "rule": rule_id})


def redeploy(ops: RecSysOps, service: RecommendationService, who: str,
             incident: str | None = None) -> int | None:
    """Reload and re-index the version the service serves."""
    swap = service.refresh(force=True)
    record_hotfix(ops, incident, "hotfix", who, {"action": "redeploy",
                                           "version": None if swap is None else swap.version})
    return None if swap is None else swap.version


def resolve(ops: RecSysOps, incident: str, who: str, answers: dict[str, str],
            add_monitor: dict[str, Any] | None = None) -> Incident:
    """Close an incident with its review (one answer per ``REVIEW`` question), maybe adding
    the monitor that would have caught it sooner."""
    missing = [q for q in REVIEW if not answers.get(q, "").strip()]
    if missing:
        raise InvalidInput(f"the review lacks answers to: {'; '.join(missing)}",
                           "answer every review question (a sentence each)")
    found = ops.incidents.get(incident)
    if found.status == RESOLVED:  # before the monitor is added: a refusal changes nothing
        raise Conflict(f"incident {found.uri} is already resolved",
                       "open a new incident for a new episode")
    added = None
    if add_monitor:
        added = ops.add_monitor(**add_monitor).uri
    return ops.incidents.update(incident, ops.clock(), who, "review",
                                {"answers": answers, "added_monitor": added},
                                status=RESOLVED, review=answers)
