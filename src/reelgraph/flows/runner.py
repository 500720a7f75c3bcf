"""The scheduler: turns a flow into tasks, runs them on an executor, records everything.

Ready tasks are submitted as soon as their inputs exist, so independent branches and the
elements of a foreach run in parallel. A failed task is retried with exponential backoff
(``backoff_s * 2**(attempt-1)``); when its retries are spent the run stops launching
tasks, waits for the running ones, and is marked failed with the traceback kept.

Every task has a cache key: its step's code hash, the parameters it takes and the digests
of its inputs. ``resume`` reuses the finished tasks of an earlier run whose keys match
(the failed step and everything after it run again); ``use_cache`` reuses any earlier
run's matching task.
"""

from __future__ import annotations

import hashlib
import json
import random
import subprocess
import time
import uuid
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from reelgraph.artifacts import ArtifactRef
from reelgraph.core import Conflict, fault_point, now_us
from reelgraph.flows.definition import Flow, Step
from reelgraph.flows.executors import Executor, open_executor
from reelgraph.flows.leases import Heartbeat
from reelgraph.flows.lineage import record_run
from reelgraph.flows.runs import RunRecord, TaskRecord
from reelgraph.flows.task import TaskOutcome, TaskSpec
from reelgraph.flows.workspace import Workspace

Progress = Callable[[TaskRecord], None]
_PACKAGES = ("reelgraph", "numpy", "pyarrow", "torch", "ray", "sqlalchemy")


def _new_run_id() -> str:
    stamp = datetime.now(tz=UTC).strftime("%Y%m%dT%H%M%S")
    return f"{stamp}-{uuid.uuid4().hex[:6]}"


def _git_commit(flow: Flow) -> str:
    first = next(iter(flow.steps.values()))
    folder = Path(first.fn.__code__.co_filename).parent
    try:
        done = subprocess.run(["git", "-C", str(folder), "rev-parse", "HEAD"],
                              capture_output=True, text=True, timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""


def _packages() -> dict[str, str]:
    found = {}
    for name in _PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found


def _task_seed(seed: int, step: str, index: int | None) -> int:
    return int(hashlib.sha256(f"{seed}:{step}:{index}".encode()).hexdigest()[:8], 16)


@dataclass
class _Task:
    step: Step
    index: int | None
    record: TaskRecord
    spec: TaskSpec | None = None
    retry_at: float | None = None


class Runner:
    """Runs flows in a workspace: records runs and tasks, reuses finished steps, resumes failed
    runs."""

    def __init__(self, workspace: Workspace) -> None:
        self.ws = workspace

    def resume(self, run_id: str, flow: Flow, executor: str | None = None,
               progress: Progress | None = None) -> RunRecord:
        """Run ``run_id`` again, reusing its finished tasks; the failed ones run anew."""
        old = self.ws.runs.get(run_id)  # a run whose process died reads as failed here
        if old.status == "running":
            raise Conflict(f"run {run_id} is still running (its process is alive and its "
                           "heartbeat fresh); resuming it would run it twice",
                           f"wait for it to end (`reelgraph runs show {run_id}`) or stop "
                           "its process, then resume")
        if old.flow != flow.name:
            raise Conflict(f"run {run_id} is a run of flow {old.flow!r}, not {flow.name!r}",
                           f"resume it with the file that defines flow {old.flow!r}")
        return self.run(flow, old.params, executor or old.executor, resume_of=run_id,
                        seed=old.seed, progress=progress, source=old.source)

    def run(
        self,
        flow: Flow,
        params: dict[str, Any] | None = None,
        executor: str | None = None,
        *,
        resume_of: str | None = None,
        use_cache: bool = False,
        seed: int | None = None,
        trigger: str | None = None,
        progress: Progress | None = None,
        source: str | None = None,
    ) -> RunRecord:
        flow.validate()
        bound = flow.bind(params or {})
        name = executor or self.ws.settings.executor
        run = RunRecord(
            id=_new_run_id(), flow=flow.name, namespace=flow.namespace, status="running",
            params=bound, code_hash=flow.code_hash, git_commit=_git_commit(flow),
            packages=_packages(), seed=random.randrange(2**31) if seed is None else seed,
            executor=name, started_at=now_us(), resume_of=resume_of, trigger=trigger,
            source=source,
        )
        pool = open_executor(name, [s.fn for s in flow.steps.values()],
                             self.ws.settings.ray_address)
        try:
            pool.admit(flow.steps.values())  # e.g. more GPUs than the Ray cluster has
        except BaseException:
            pool.close()
            raise
        self.ws.runs.create(run)
        record_run(self.ws.graph, flow, run)
        try:
            with Heartbeat(lambda: self.ws.runs.beat(run.id)):
                error = _Schedule(self, flow, run, pool, use_cache, progress).run()
        finally:
            pool.close()
        self.ws.runs.finish(run.id, "failed" if error else "succeeded", now_us(), error)
        final = self.ws.runs.get(run.id)
        record_run(self.ws.graph, flow, final)  # reads missing from the graph are noted there
        return final


class _Schedule:
    """One run's bookkeeping: which tasks exist, which are done, what to launch next."""

    def __init__(self, runner: Runner, flow: Flow, run: RunRecord, pool: Executor,
                 use_cache: bool, progress: Progress | None) -> None:
        self.ws = runner.ws
        self.flow = flow
        self.run_record = run
        self.pool = pool
        self.use_cache = use_cache
        self.progress = progress
        self.done: dict[str, list[ArtifactRef | None]] = {}  # step -> value per task
        self.tasks: dict[str, list[_Task]] = {}
        self.running: dict[Future[TaskOutcome], _Task] = {}
        self.failure: str | None = None

    def _save(self, task: _Task, **changes: Any) -> None:
        task.record = replace(task.record, **changes)
        self.ws.runs.save_task(task.record)
        if self.progress:
            self.progress(task.record)

    def run(self) -> str | None:
        while True:
            if self.failure is None:
                self._launch()  # due retries
            # Reused tasks finish at once and may unlock more steps: expand until stable.
            while self.failure is None and self._expand():
                self._launch()
            if not self.running and not self._waiting():
                break
            timeout = self._next_retry_in()
            finished, _ = wait(list(self.running), timeout=timeout, return_when=FIRST_COMPLETED)
            for future in finished:
                self._finish(self.running.pop(future), future)
        if self.failure is None and len(self.done) < len(self.flow.steps):
            self.failure = "the run stopped before every step finished"
        return self.failure

    def _waiting(self) -> bool:
        return self.failure is None and any(
            t.retry_at is not None for tasks in self.tasks.values() for t in tasks)

    def _next_retry_in(self) -> float | None:
        times = [t.retry_at for ts in self.tasks.values() for t in ts if t.retry_at is not None]
        return max(min(times) - time.monotonic(), 0.0) if times else None

    # --- creating tasks ------------------------------------------------------------------

    def _expand(self) -> int:
        """Create the tasks of every step whose upstream steps are all done; count them."""
        created = 0
        for step in self.flow.steps.values():
            if step.name in self.tasks or any(up not in self.done for up in step.upstream):
                continue
            if step.foreach is None:
                self.tasks[step.name] = [self._new_task(step, None)]
                created += 1
                continue
            source = self._value(step.foreach)
            items = self.ws.artifacts.get(source)
            if not isinstance(items, list | tuple):
                self.failure = (f"step {step.name!r} fans out over step {step.foreach!r}, which "
                                f"returned a {type(items).__name__}, not a list")
                return created
            self.tasks[step.name] = [self._new_task(step, i) for i in range(len(items))]
            created += 1
            if not items:  # an empty fan-out is done at once, with an empty list
                self.done[step.name] = []
        return created

    def _value(self, step: str) -> ArtifactRef:
        ref = self.done[step][0]
        assert ref is not None
        return ref

    def _inputs(self, step: Step) -> dict[str, ArtifactRef | list[ArtifactRef]]:
        inputs: dict[str, ArtifactRef | list[ArtifactRef]] = {}
        for name in step.inputs:
            refs = [r for r in self.done[name] if r is not None]
            inputs[name] = refs if self.flow.steps[name].foreach else refs[0]
        return inputs

    def _new_task(self, step: Step, index: int | None) -> _Task:
        inputs = self._inputs(step)
        source = self._value(step.foreach) if step.foreach else None
        key_material = {
            "code": step.code_hash,
            "params": {p: self.run_record.params[p] for p in step.params},
            "inputs": {n: [r.digest for r in v] if isinstance(v, list) else v.digest
                       for n, v in inputs.items()},
            "foreach": source.digest if source else None,
            "index": index,
        }
        cache_key = hashlib.sha256(
            json.dumps(key_material, sort_keys=True, default=str).encode()).hexdigest()
        run = self.run_record
        spec = TaskSpec(
            run.id, self.flow.name, step.name, index, step.fn, inputs, source, run.params,
            step.params, step.wants_context, self.ws.artifacts.url,
            _task_seed(run.seed, step.name, index), 1, self.ws.settings,
        )
        record = TaskRecord(run.id, step.name, index, "pending", 0, cache_key)
        return _Task(step, index, record, spec)

    # --- launching and finishing ---------------------------------------------------------

    def _launch(self) -> None:
        now = time.monotonic()
        for tasks in self.tasks.values():
            for task in tasks:
                if task.record.status == "pending" or (
                    task.retry_at is not None and task.retry_at <= now
                ):
                    task.retry_at = None
                    if not self._reuse(task):
                        self._submit(task)

    def _reuse(self, task: _Task) -> bool:
        if task.record.attempts or not (self.run_record.resume_of or self.use_cache):
            return False
        hit = self.ws.runs.cached(task.record.cache_key, self.run_record.resume_of)
        if hit is None or hit.artifact is None or not self.ws.artifacts.exists(
                hit.artifact.digest):
            return False
        self._save(task, status="reused", artifact=hit.artifact, reused_from=hit.run_id,
                   started_at=now_us(), ended_at=now_us(), reads=hit.reads)
        self._complete(task)
        return True

    def _submit(self, task: _Task) -> None:
        assert task.spec is not None
        attempt = task.record.attempts + 1
        task.spec = replace(task.spec, attempt=attempt)
        self._save(task, status="running", attempts=attempt, started_at=now_us())
        self.running[self.pool.submit(task.spec, task.step.resources)] = task

    def _finish(self, task: _Task, future: Future[TaskOutcome]) -> None:
        try:
            outcome = future.result()
        except Exception as exc:  # the worker itself died (killed, out of memory...)
            outcome = TaskOutcome(False, None, "", f"the worker failed: {exc!r}", None, (),
                                  task.record.started_at or now_us(), now_us())
        if outcome.ok:
            self._save(task, status="succeeded", artifact=outcome.ref, log=outcome.log,
                       error=None, traceback=None, reads=outcome.reads,
                       ended_at=outcome.ended_us)
            fault_point("flows.run.task_saved")
            self._complete(task)
            return
        retry = outcome.retryable and task.record.attempts <= task.step.retries
        self._save(task, status="retrying" if retry else "failed", log=outcome.log,
                   error=outcome.error, traceback=outcome.traceback, reads=outcome.reads,
                   ended_at=outcome.ended_us)
        if retry:
            task.retry_at = time.monotonic() + task.step.backoff_s * 2 ** (
                task.record.attempts - 1)
        elif self.failure is None:
            where = f"step {task.step.name!r}" + (
                f" element {task.index}" if task.index is not None else "")
            self.failure = f"{where} failed after {task.record.attempts} attempt(s): " + (
                outcome.error or "unknown error")

    def _complete(self, task: _Task) -> None:
        tasks = self.tasks[task.step.name]
        if all(t.record.done for t in tasks):
            self.done[task.step.name] = [t.record.artifact for t in tasks]
