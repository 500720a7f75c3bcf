"""Run records: what ran, with what, how it went, per task; kept in the metadata database."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text

from reelgraph.artifacts import ArtifactRef
from reelgraph.core import MetadataStore, NotFound, now_us, this_process, write_connection
from reelgraph.flows.leases import lapsed

NO_INDEX = -1  # the index stored for a task of a step that is not foreach
_RANK = {"failed": 3, "running": 2, "retrying": 2}  # which task status speaks for its step


@dataclass(frozen=True)
class TaskRecord:
    """A stored task of a run: one step (or one element of a foreach) and its artifact."""
    run_id: str
    step: str
    index: int | None
    status: str  # running, retrying, succeeded, reused, failed
    attempts: int
    cache_key: str
    started_at: int | None = None
    ended_at: int | None = None
    artifact: ArtifactRef | None = None
    reused_from: str | None = None
    log: str = ""
    error: str | None = None
    traceback: str | None = None
    reads: tuple[str, ...] = ()

    @property
    def done(self) -> bool:
        return self.status in ("succeeded", "reused")

    def to_dict(self) -> dict[str, Any]:
        return {
            "step": self.step, "index": self.index, "status": self.status,
            "attempts": self.attempts, "started_at": self.started_at, "ended_at": self.ended_at,
            "artifact": self.artifact.to_dict() if self.artifact else None,
            "reused_from": self.reused_from, "error": self.error, "reads": list(self.reads),
        }


@dataclass(frozen=True)
class RunRecord:
    """A stored run of a flow: status, parameters, times and error."""
    id: str
    flow: str
    namespace: str
    status: str  # running, succeeded, failed
    params: dict[str, Any]
    code_hash: str
    git_commit: str
    packages: dict[str, str]
    seed: int
    executor: str
    started_at: int
    resume_of: str | None = None
    trigger: str | None = None
    ended_at: int | None = None
    error: str | None = None
    source: str | None = None  # the file that defines the flow, for resume
    tasks: tuple[TaskRecord, ...] = field(default=())

    def task(self, step: str, index: int | None = None) -> TaskRecord:
        for task in self.tasks:
            if task.step == step and task.index == index:
                return task
        element = f" [{index}]" if index is not None else ""
        raise NotFound(f"run {self.id} has no task {step!r}{element}",
                       "list its tasks with `reelgraph runs show`")

    def step_status(self) -> dict[str, str]:
        """One status per step: failed beats running beats done."""
        status: dict[str, str] = {}
        for task in self.tasks:
            current = status.get(task.step)
            if current is None or _RANK.get(task.status, 1) > _RANK.get(current, 1):
                status[task.step] = task.status
        return status

    def to_dict(self, with_tasks: bool = True) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id, "flow": self.flow, "namespace": self.namespace, "status": self.status,
            "params": self.params, "code_hash": self.code_hash, "git_commit": self.git_commit,
            "seed": self.seed, "executor": self.executor, "resume_of": self.resume_of,
            "trigger": self.trigger, "started_at": self.started_at, "ended_at": self.ended_at,
            "source": self.source, "error": self.error, "steps": self.step_status(),
        }
        if with_tasks:
            data["tasks"] = [t.to_dict() for t in self.tasks]
            data["packages"] = self.packages
        return data


_RUN_COLUMNS = ("id, flow, namespace, status, params, code_hash, git_commit, packages, seed, "
                "executor, started_at, resume_of, trigger, ended_at, error, source")
_TASK_COLUMNS = ("run_id, step, idx, status, attempts, cache_key, started_at, ended_at, "
                 "artifact, reused_from, log, error, traceback, reads")


def _task(row: Any) -> TaskRecord:
    return TaskRecord(
        row[0], row[1], None if row[2] == NO_INDEX else row[2], row[3], row[4], row[5], row[6],
        row[7], ArtifactRef.from_dict(json.loads(row[8])) if row[8] else None, row[9],
        row[10], row[11], row[12], tuple(json.loads(row[13])),
    )


class RunStore(MetadataStore):
    """Run records. A running run names its process and renews a heartbeat (``beat``); the
    reads (``get``, ``list``) first mark failed the running runs whose holder is gone
    (``flows.leases``), so a killed run never looks alive."""

    def create(self, run: RunRecord) -> None:
        with write_connection(self.engine) as conn, conn.begin():
            conn.execute(
                text(f"INSERT INTO rg_run ({_RUN_COLUMNS}, owner, heartbeat_at) VALUES (:id, "
                     ":flow, :namespace, :status, :params, :code_hash, :git_commit, :packages, "
                     ":seed, :executor, :started_at, :resume_of, :trigger, :ended_at, :error, "
                     ":source, :owner, :heartbeat_at)"),
                {**run.to_dict(with_tasks=False), "params": json.dumps(run.params, default=str),
                 "packages": json.dumps(run.packages), "owner": this_process(),
                 "heartbeat_at": now_us()},
            )

    def beat(self, run_id: str) -> None:
        """Renew a running run's heartbeat."""
        with write_connection(self.engine) as conn, conn.begin():
            conn.execute(text("UPDATE rg_run SET heartbeat_at = :t WHERE id = :id "
                              "AND status = 'running'"), {"t": now_us(), "id": run_id})

    def reap(self) -> list[str]:
        """Mark failed every running run whose process died or whose heartbeat lapsed, and
        its unfinished tasks; returns their ids. Resuming such a run reruns those tasks."""
        now = now_us()
        with self.engine.connect() as conn:
            rows = conn.execute(text("SELECT id, owner, heartbeat_at FROM rg_run "
                                     "WHERE status = 'running'")).all()
        gone = [(row[0], row[1], row[2]) for row in rows if lapsed(row[1], row[2], now)]
        if not gone:
            return []
        reaped = []
        with write_connection(self.engine) as conn, conn.begin():
            for run_id, owner, heartbeat_at in gone:
                error = (f"the process running it ({owner}) died or stopped answering "
                         "(no heartbeat); resume it to finish")
                # Only if nothing renewed it since it was read (a slow holder is not dead).
                done = conn.execute(
                    text("UPDATE rg_run SET status = 'failed', ended_at = :t, error = :e "
                         "WHERE id = :id AND status = 'running' "
                         "AND COALESCE(heartbeat_at, 0) = :hb"),
                    {"t": now, "e": error, "id": run_id, "hb": heartbeat_at or 0})
                if done.rowcount:
                    conn.execute(
                        text("UPDATE rg_task SET status = 'failed', ended_at = :t, error = :e "
                             "WHERE run_id = :id AND status IN ('running', 'retrying')"),
                        {"t": now, "e": error, "id": run_id})
                    reaped.append(run_id)
        return reaped

    def save_task(self, task: TaskRecord) -> None:
        values = {
            "run_id": task.run_id, "step": task.step,
            "idx": NO_INDEX if task.index is None else task.index, "status": task.status,
            "attempts": task.attempts, "cache_key": task.cache_key,
            "started_at": task.started_at, "ended_at": task.ended_at,
            "artifact": json.dumps(task.artifact.to_dict()) if task.artifact else None,
            "reused_from": task.reused_from, "log": task.log, "error": task.error,
            "traceback": task.traceback, "reads": json.dumps(list(task.reads)),
        }
        updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in values if c not in
                            ("run_id", "step", "idx"))
        with write_connection(self.engine) as conn, conn.begin():
            conn.execute(
                text(f"INSERT INTO rg_task ({', '.join(values)}) VALUES "
                     f"({', '.join(':' + c for c in values)}) "
                     f"ON CONFLICT (run_id, step, idx) DO UPDATE SET {updates}"),
                values,
            )

    def finish(self, run_id: str, status: str, ended_at: int, error: str | None) -> None:
        with write_connection(self.engine) as conn, conn.begin():
            conn.execute(
                text("UPDATE rg_run SET status = :s, ended_at = :t, error = :e WHERE id = :id"),
                {"s": status, "t": ended_at, "e": error, "id": run_id},
            )

    def get(self, run_id: str) -> RunRecord:
        self.reap()
        with self.engine.connect() as conn:
            row = conn.execute(text(f"SELECT {_RUN_COLUMNS} FROM rg_run WHERE id = :id"),
                               {"id": run_id}).first()
            if row is None:
                raise NotFound(f"no run with id {run_id!r}",
                               "list runs with `reelgraph runs list`")
            tasks = conn.execute(
                text(f"SELECT {_TASK_COLUMNS} FROM rg_task WHERE run_id = :id "
                     "ORDER BY started_at, step, idx"), {"id": run_id})
            return self._run(row, tuple(_task(t) for t in tasks))

    @staticmethod
    def _run(row: Any, tasks: tuple[TaskRecord, ...]) -> RunRecord:
        return RunRecord(
            id=row[0], flow=row[1], namespace=row[2], status=row[3], params=json.loads(row[4]),
            code_hash=row[5], git_commit=row[6], packages=json.loads(row[7]), seed=row[8],
            executor=row[9], started_at=row[10], resume_of=row[11], trigger=row[12],
            ended_at=row[13], error=row[14], source=row[15], tasks=tasks,
        )

    def list(self, flow: str | None = None, status: str | None = None, limit: int = 50
             ) -> Sequence[RunRecord]:
        clause = ""
        params: dict[str, object] = {"limit": limit}
        if flow is not None:
            clause += " AND flow = :flow"
            params["flow"] = flow
        if status is not None:
            clause += " AND status = :status"
            params["status"] = status
        self.reap()
        with self.engine.connect() as conn:
            rows = conn.execute(
                text(f"SELECT {_RUN_COLUMNS} FROM rg_run WHERE 1 = 1{clause} "
                     "ORDER BY started_at DESC LIMIT :limit"), params)
            return [self._run(row, ()) for row in rows]

    def cached(self, cache_key: str, run_id: str | None = None) -> TaskRecord | None:
        """The newest finished task with this cache key (only in ``run_id`` if given)."""
        clause = " AND run_id = :run_id" if run_id else ""
        with self.engine.connect() as conn:
            row = conn.execute(
                text(f"SELECT {_TASK_COLUMNS} FROM rg_task WHERE cache_key = :k AND status IN "
                     f"('succeeded', 'reused'){clause} ORDER BY ended_at DESC LIMIT 1"),
                {"k": cache_key, "run_id": run_id},
            ).first()
        return _task(row) if row else None

    def artifact(self, run_id: str, step: str, index: int | None = None) -> ArtifactRef:
        task = self.get(run_id).task(step, index)
        if task.artifact is None:
            raise NotFound(f"step {step!r} of run {run_id} stored no value ({task.status})",
                           f"resume the run: `reelgraph runs resume {run_id}`")
        return task.artifact
