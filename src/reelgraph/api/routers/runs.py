"""``/api/v1/runs`` and ``/api/v1/events``: flow runs, their logs, and the event log with its
dead letters. Read-only: runs start from the CLI, Python or a worker.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query

from reelgraph.api.auth import require_read
from reelgraph.api.deps import get_events, get_runs
from reelgraph.api.errors import error_body
from reelgraph.api.schemas.runs import RUN_ID, EventList, RunDetail, RunList, RunLogs
from reelgraph.core import NotFound
from reelgraph.flows import EventLog, RunStore

Json = dict[str, Any]

_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"description": "no such run or step", "content": {"application/json": {
        "example": error_body("NotFound", f"no run with id '{RUN_ID}'",
                              "list runs with `reelgraph runs list`")}}},
}


router = APIRouter(prefix="/api/v1", dependencies=[Depends(require_read)], responses=_ERRORS)


@router.get("/runs", response_model=RunList, tags=["runs"], summary="Runs, newest first")
def list_runs(
    flow: str | None = Query(None, description="only runs of this flow"),
    status: str | None = Query(None, description="running, succeeded or failed"),
    limit: int = Query(50, ge=1, le=1000),
    runs: RunStore = Depends(get_runs),
) -> Json:
    return {"runs": [r.to_dict(with_tasks=False)
                     for r in runs.list(flow=flow, status=status, limit=limit)]}


@router.get("/runs/{run_id}", response_model=RunDetail, tags=["runs"],
            summary="A run with every task")
def show_run(run_id: str, runs: RunStore = Depends(get_runs)) -> Json:
    return runs.get(run_id).to_dict()


@router.get("/runs/{run_id}/logs", response_model=RunLogs, tags=["runs"],
            summary="Each task's output, and the traceback of failed ones")
def run_logs(run_id: str, step: str | None = Query(None, description="only this step"),
             runs: RunStore = Depends(get_runs)) -> Json:
    run = runs.get(run_id)
    tasks = [t for t in run.tasks if step is None or t.step == step]
    if step is not None and not tasks:
        raise NotFound(f"run {run_id} has no step {step!r}",
                       f"use one of {sorted(run.step_status())}")
    return {"run": run.id, "tasks": [
        {"step": t.step, "index": t.index, "status": t.status, "attempts": t.attempts,
         "log": t.log, "error": t.error, "traceback": t.traceback} for t in tasks]}


@router.get("/events", response_model=EventList, tags=["events"],
            summary="Logged events, newest first, with the runs they started")
def list_events(
    dead: bool = Query(False, description="only dead-lettered events, with the reason"),
    limit: int = Query(50, ge=1, le=1000),
    events: EventLog = Depends(get_events),
) -> Json:
    return {"events": [e.to_dict() for e in events.list(dead=dead, limit=limit)]}
