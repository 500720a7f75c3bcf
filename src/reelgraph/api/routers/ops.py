"""``/api/v1/ops``: RecSysOps over HTTP: monitors, checks, alerts, incidents (with their
timelines and diagnosis), replay and explanation of a logged request, and the hotfixes
(rollback, rule overlays). Reads follow the read policy; checks, diagnoses and hotfixes
need the token. Unknown request ids, monitors, incidents and rules are 404s with the usual
error body.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Depends, Query
from fastapi import Path as PathParam
from pydantic import BaseModel, Field

from reelgraph.api.auth import require_read, require_write
from reelgraph.api.deps import get_ops
from reelgraph.ops import (
    RecSysOps,
    add_rule,
    diagnose,
    explain,
    remove_rule,
    replay,
    resolve,
    rollback,
    shadow,
)

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
def create_rule(body: RuleIn, ops: RecSysOps = Depends(get_ops)) -> Json:
    return add_rule(ops, body.canvas, body.item, body.action, body.who, body.expires_in_s,
                    body.weight, body.incident).to_dict()


@writes.delete("/rules/{rule_id}", summary="Remove a rule (kept in the audit)")
def delete_rule(rule_id: int = PathParam(ge=1, le=2**63 - 1, description="the rule's id"),
                who: str = Query(min_length=1),
                ops: RecSysOps = Depends(get_ops)) -> Json:
    remove_rule(ops, rule_id, who)
    return {"removed": rule_id}


router = APIRouter(prefix="/api/v1/ops", tags=["ops"])
router.include_router(reads)
router.include_router(writes)
