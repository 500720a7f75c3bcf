"""``/api/v1/ops``: RecSysOps over HTTP: monitors, checks, alerts, incidents (with their
timelines and diagnosis), replay and explanation of a logged request, and the hotfixes
(rollback, rule overlays, canvas switches, nearline invalidation) and the canary. Reads
follow the read policy; checks, diagnoses, hotfixes and canary moves need the token.
Unknown request ids, monitors, incidents, rules and switches are 404s with the usual error
body.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, BackgroundTasks, Depends, Query
from fastapi import Path as PathParam
from pydantic import BaseModel, Field

from reelgraph.api.auth import require_read, require_write
from reelgraph.api.deps import get_ops, get_overlay, get_serving
from reelgraph.ops import (
    Overlay,
    RecSysOps,
    add_rule,
    check_canary,
    diagnose,
    end_switch,
    explain,
    invalidate,
    promote_canary,
    recompute,
    remove_rule,
    replay,
    resolve,
    restore,
    rollback,
    shadow,
    start_canary,
    stop_canary,
    switch_canvas,
)
from reelgraph.serving import RecommendationService

Json = dict[str, Any]
_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"description": "no such monitor, incident, logged request or rule"},
    409: {"description": "a hotfix that cannot be applied (nothing changed)"},
    422: {"description": "malformed input"},
}


class RollbackIn(BaseModel):
    who: str = Field(min_length=1, description="who rolls back")
    incident: str | None = Field(None, description="record it on this incident")


class RuleIn(BaseModel):
    item: str = Field(min_length=1)
    canvas: str = Field("*", description="a canvas, or * for all")
    action: str = Field("block", description="block, pin or boost")
    weight: float = Field(1.0, description="a boost's score bonus")
    expires_in_s: float | None = Field(None, gt=0)
    who: str = Field(min_length=1)
    incident: str | None = None


class ShadowIn(BaseModel):
    version: int = Field(ge=1, le=2**31 - 1, description="the candidate's version number")
    sample: int = Field(300, ge=1, le=100_000, description="recent logged requests replayed")


class MonitorIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    kind: str = Field(description="serving, dataset or inputs")
    watches: list[str] = Field(min_length=1, description="URIs of the nodes it watches")
    owner: str = Field(min_length=1)
    source: dict[str, Any] = Field(default_factory=dict)


class ResolveIn(BaseModel):
    who: str = Field(min_length=1)
    answers: dict[str, str] = Field(description="one answer per review question "
                                                "(GET /review lists them)")
    add_monitor: MonitorIn | None = Field(
        None, description="the monitor that would have caught it sooner")


class SwitchIn(BaseModel):
    canvas: str = Field(min_length=1, description="a canvas, or * for all")
    environment: str = Field("fallback", description="fallback or nearline-only")
    expires_in_s: float = Field(description="seconds until the canvas is served as configured "
                                            "again (must be positive)")
    who: str = Field(min_length=1)
    incident: str | None = None


class InvalidateIn(BaseModel):
    version: int | None = Field(None, ge=1, le=2**31 - 1,
                                description="default: the serving version")
    canvases: list[str] = Field(default_factory=list,
                                description="default: every nearline canvas")
    users: list[str] = Field(default_factory=list, description="only these members' answers")
    items: list[str] = Field(default_factory=list, description="only answers holding these")
    recompute: bool = Field(True, description="recompute them in the background")
    who: str = Field(min_length=1)
    incident: str | None = None


class WhoIn(BaseModel):
    who: str = Field(min_length=1)
    incident: str | None = None


class CanaryIn(BaseModel):
    version: int = Field(ge=1, le=2**31 - 1, description="the candidate's version number")
    share: float = Field(0.1, description="the share of members it answers (0 to 0.5)")
    window_s: float = Field(86_400.0, description="how long it must hold before promotion")
    who: str = Field(min_length=1)


reads = APIRouter(dependencies=[Depends(require_read)], responses=_ERRORS)
writes = APIRouter(dependencies=[Depends(require_write)], responses=_ERRORS)


@reads.get("/monitors", summary="Monitors, what they watch and who owns them")
def monitors(ops: RecSysOps = Depends(get_ops)) -> Json:
    return {"monitors": [m.to_dict() for m in ops.monitors()]}


@reads.get("/alerts", summary="The latest alerts, newest first")
def alerts(owner: str | None = None, limit: int = Query(100, ge=1, le=1000),
           ops: RecSysOps = Depends(get_ops)) -> Json:
    return {"alerts": [a.to_dict() for a in ops.alerts(owner=owner, limit=limit)]}


@reads.get("/checks", summary="A monitor's check series, newest first (one row per signal)")
def checks(monitor: str = Query(..., min_length=1, max_length=2048),
           signal: str | None = Query(None, max_length=256),
           limit: int = Query(500, ge=1, le=5000), ops: RecSysOps = Depends(get_ops)) -> Json:
    found = ops.monitor(monitor)  # 404 (or a named refusal) for an unknown monitor
    rows = ops.store.checks(found.uri, signal, limit)
    return {"checks": [asdict(row) for row in rows]}


@reads.get("/incidents", summary="Incidents; or the open ones on a node's lineage (on=URI)")
def incidents(status: str | None = None, on: str | None = None,
              ops: RecSysOps = Depends(get_ops)) -> Json:
    chosen = ops.incidents.on_path(on) if on else ops.incidents.all(status)
    return {"incidents": [i.to_dict() for i in chosen]}


@reads.get("/incidents/{name}", summary="One incident (inc-N or its URI) with its timeline")
def incident(name: str, ops: RecSysOps = Depends(get_ops)) -> Json:
    found = ops.incidents.get(name)
    return found.to_dict(ops.incidents.timeline(found.uri))


@reads.get("/replay/{request_id}", summary="Replay a logged request in isolation")
def replay_request(request_id: str, ops: RecSysOps = Depends(get_ops)) -> Json:
    return replay(ops, request_id).to_dict()


@reads.get("/explain/{request_id}",
           summary="Which inputs drove each item of a logged answer (Shapley values)")
def explain_request(request_id: str, top: int = Query(5, ge=1, le=100),
                    ops: RecSysOps = Depends(get_ops)) -> Json:
    return explain(ops, request_id, top).to_dict()


@writes.post("/check", summary="Run the checks now")
def check(ops: RecSysOps = Depends(get_ops)) -> Json:
    return {"reports": [r.to_dict() for r in ops.check()]}


@writes.post("/incidents/{name}/diagnose", summary="Inputs or model, with evidence")
def diagnose_incident(name: str, ops: RecSysOps = Depends(get_ops)) -> Json:
    return diagnose(ops, ops.incidents.get(name).uri).to_dict()


@reads.get("/review", summary="The questions a resolution answers")
def review_questions() -> Json:
    from reelgraph.ops import REVIEW

    return {"questions": list(REVIEW)}


@writes.post("/incidents/{name}/resolve",
             summary="Close an incident with its review; maybe add a monitor")
def resolve_incident(name: str, body: ResolveIn, ops: RecSysOps = Depends(get_ops)) -> Json:
    monitor = None if body.add_monitor is None else body.add_monitor.model_dump()
    found = resolve(ops, name, body.who, body.answers, monitor)
    return found.to_dict(ops.incidents.timeline(found.uri))


@writes.post("/shadow", summary="Run a candidate beside production on replayed traffic")
def shadow_candidate(body: ShadowIn, ops: RecSysOps = Depends(get_ops)) -> Json:
    from reelgraph.ops import default_outcomes

    return shadow(ops, body.version, body.sample, default_outcomes(ops)).to_dict()


@writes.post("/rollback", summary="Put the previous production version back")
def rollback_model(body: RollbackIn, ops: RecSysOps = Depends(get_ops)) -> Json:
    return {"model": ops.model, "version": rollback(ops, body.who, body.incident)}


@writes.post("/rules", status_code=201, summary="Block, pin or boost an item on a canvas")
def create_rule(body: RuleIn, ops: RecSysOps = Depends(get_ops),
                overlay: Overlay = Depends(get_overlay)) -> Json:
    rule = add_rule(ops, body.canvas, body.item, body.action, body.who, body.expires_in_s,
                    body.weight, body.incident)
    overlay.reload()  # this server applies it at once (others within their reload)
    return rule.to_dict()


@writes.delete("/rules/{rule_id}", summary="Remove a rule (kept in the audit)")
def delete_rule(rule_id: int = PathParam(ge=1, le=2**63 - 1, description="the rule's id"),
                who: str = Query(min_length=1), ops: RecSysOps = Depends(get_ops),
                overlay: Overlay = Depends(get_overlay)) -> Json:
    remove_rule(ops, rule_id, who)
    overlay.reload()
    return {"removed": rule_id}


@reads.get("/switches", summary="Canvas switches (active and past)")
def switches(ops: RecSysOps = Depends(get_ops)) -> Json:
    return {"switches": [w.to_dict() for w in ops.store.switches()]}


@writes.post("/switches", status_code=201,
             summary="Serve a canvas from the fallback or nearline-only until an expiry")
def create_switch(body: SwitchIn, ops: RecSysOps = Depends(get_ops),
                  overlay: Overlay = Depends(get_overlay)) -> Json:
    switch = switch_canvas(ops, body.canvas, body.environment, body.who, body.expires_in_s,
                           body.incident)
    overlay.reload()
    return switch.to_dict()


@writes.delete("/switches/{switch_id}", summary="End a switch (kept in the audit)")
def delete_switch(switch_id: int = PathParam(ge=1, le=2**63 - 1),
                  who: str = Query(min_length=1), ops: RecSysOps = Depends(get_ops),
                  overlay: Overlay = Depends(get_overlay)) -> Json:
    end_switch(ops, switch_id, who)
    overlay.reload()
    return {"removed": switch_id}


@reads.get("/nearline/invalidations", summary="Nearline invalidations, oldest first")
def invalidations(ops: RecSysOps = Depends(get_ops)) -> Json:
    return {"invalidations": [i.to_dict() for i in ops.store.invalidations()]}


@writes.post("/nearline/invalidate", status_code=202,
             summary="Invalidate nearline answers; recompute them in the background")
def invalidate_nearline(body: InvalidateIn, tasks: BackgroundTasks,
                        ops: RecSysOps = Depends(get_ops),
                        service: RecommendationService = Depends(get_serving)) -> Json:
    found = invalidate(ops, service, body.who, version=body.version,
                       canvases=body.canvases or None, users=body.users or None,
                       items=body.items or None, incident=body.incident)
    if body.recompute:
        tasks.add_task(recompute, service, found)
    return {**found.to_dict(), "recompute": "queued" if body.recompute else "no"}


@writes.post("/nearline/invalidations/{invalidation_id}/restore",
             summary="Put the answers an invalidation removed back")
def restore_nearline(body: WhoIn, invalidation_id: int = PathParam(ge=1, le=2**63 - 1),
                     ops: RecSysOps = Depends(get_ops),
                     service: RecommendationService = Depends(get_serving)) -> Json:
    return {"restored": restore(ops, service, invalidation_id, body.who, body.incident)}


@reads.get("/canary", summary="Canaries, the running one last")
def canaries(ops: RecSysOps = Depends(get_ops)) -> Json:
    return {"canaries": [c.to_dict() for c in ops.store.canaries()]}


@writes.post("/canary", status_code=201,
             summary="Start a canary: a candidate answers a share of the members")
def create_canary(body: CanaryIn, ops: RecSysOps = Depends(get_ops),
                  overlay: Overlay = Depends(get_overlay)) -> Json:
    canary = start_canary(ops, body.version, body.share, body.window_s, body.who)
    overlay.reload()
    return canary.to_dict()


@writes.post("/canary/check", summary="Judge the running canary now (it aborts if worse)")
def check_running_canary(ops: RecSysOps = Depends(get_ops),
                         overlay: Overlay = Depends(get_overlay)) -> Json:
    from reelgraph.ops import default_outcomes

    found = check_canary(ops, default_outcomes(ops))
    overlay.reload()  # an aborted canary stops splitting here at once
    return {"check": None if found is None else found.to_dict()}


@writes.post("/canary/promote", summary="Promote the canary once it held for its window")
def promote_running_canary(body: WhoIn, ops: RecSysOps = Depends(get_ops),
                           overlay: Overlay = Depends(get_overlay)) -> Json:
    from reelgraph.ops import default_outcomes

    canary = promote_canary(ops, body.who, default_outcomes(ops))
    overlay.reload()
    return canary.to_dict()


@writes.post("/canary/stop", summary="Stop the running canary (traffic back to production)")
def stop_running_canary(body: WhoIn, ops: RecSysOps = Depends(get_ops),
                        overlay: Overlay = Depends(get_overlay)) -> Json:
    canary = stop_canary(ops, body.who)
    overlay.reload()
    return canary.to_dict()


router = APIRouter(prefix="/api/v1/ops", tags=["ops"])
router.include_router(reads)
router.include_router(writes)
