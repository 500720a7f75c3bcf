"""``reelgraph worker``: turns logged events into flow runs.

One pass (``run_once``) logs the graph's new dataset and media-asset revisions and the due
schedule ticks, then, for every (event, flow) pair a trigger matches, claims the pair and
runs the flow with ``trigger="event:<id>"``. Any number of workers, in any processes, may
share a database: the claim is atomic, so an event starts a flow once. A failed run is
retried (resuming the failed run, so finished steps are reused) after a backoff, up to
``max_attempts`` runs, then dead-lettered with the run's error. A delivery whose worker was
killed is found by its lapsed heartbeat (or dead process) on the next pass of any worker
and retried the same way.

Runs are synchronous: a worker runs one flow at a time; start more workers for more.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reelgraph.core import Conflict, InvalidInput, NotFound
from reelgraph.flows.definition import Flow
from reelgraph.flows.events import Delivery, Event, EventLog
from reelgraph.flows.leases import Heartbeat
from reelgraph.flows.loader import load_flow
from reelgraph.flows.runner import Runner
from reelgraph.flows.runs import RunRecord, TaskRecord
from reelgraph.flows.triggers import flow_id, matches, schedules, selector
from reelgraph.flows.workspace import Workspace

MAX_ATTEMPTS = 3  # runs per (event, flow) before it is dead-lettered
BACKOFF_S = 60.0  # before the first retry; doubled for each later one
POLL_S = 5.0  # between passes of a long-running worker
EVENT_PARAM = "event_uri"  # a flow parameter of this name receives the event's node URI


@dataclass(frozen=True)
class WatchedFlow:
    flow: Flow
    source: str | None = None  # the file defining it, kept on its runs for resume

    @property
    def id(self) -> str:
        return flow_id(self.flow)


@dataclass(frozen=True)
class Outcome:
    """What one claimed (event, flow) pair came to in this pass."""

    event: Event
    flow: str
    delivery: Delivery


def flow_files(paths: Iterable[str | Path]) -> list[Path]:
    """The flow files among ``paths``: files as given, and each folder's ``*.py`` files
    (except ``_private.py`` ones)."""
    files: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            files += sorted(p for p in path.glob("*.py") if not p.name.startswith("_"))
        elif path.is_file():
            files.append(path)
        else:
            raise NotFound(f"no flow file or folder at {path}",
                           "pass a .py file defining a Flow, or a folder of them, to --flows")
    return files


class Worker:
    """Watches the event log and starts the flows its events trigger, once per event across
    workers."""

    def __init__(
        self,
        workspace: Workspace,
        flows: Sequence[WatchedFlow | Flow],
        *,
        events: EventLog | None = None,
        executor: str | None = None,
        max_attempts: int = MAX_ATTEMPTS,
        backoff_s: float = BACKOFF_S,
        name: str | None = None,
        clock: Callable[[], float] = time.time,
        accept: Callable[[Event], bool] | None = None,
    ) -> None:
        """``accept``: only the events it says yes to are run (default: every event), e.g.
        a job's own assets, leaving everyone else's events (and their retries) alone."""
        if max_attempts < 1 or backoff_s < 0:
            raise InvalidInput(f"max_attempts {max_attempts} / backoff {backoff_s}s",
                               "use max_attempts >= 1 and backoff_s >= 0")
        self.ws = workspace
        self.flows = [f if isinstance(f, WatchedFlow) else WatchedFlow(f) for f in flows]
        seen: set[str] = set()
        for watched in self.flows:
            if watched.id in seen:
                raise Conflict(f"two flows are named {watched.id!r}",
                               "give each watched flow its own namespace/name")
            seen.add(watched.id)
        self.events = events or EventLog(workspace.database)
        self._owns_events = events is None
        self.executor = executor
        self.max_attempts = max_attempts
        self.backoff_s = backoff_s
        self.name = name or f"{socket.gethostname()}:{os.getpid()}"
        self.clock = clock
        self.accept = accept or (lambda _event: True)
        self._since: dict[str, int] = {}

    @classmethod
    def from_paths(cls, workspace: Workspace, paths: Iterable[str | Path],
                   extra: Sequence[Flow] = (), **options: Any) -> Worker:
        """A worker for the flows in these files or folders, plus ``extra`` flows (built-in
        ones, like the media pipeline)."""
        files = flow_files(paths)
        flows = [WatchedFlow(load_flow(f), str(f.resolve())) for f in files]
        return cls(workspace, [*flows, *map(WatchedFlow, extra)], **options)

    def close(self) -> None:
        if self._owns_events:
            self.events.close()

    @property
    def triggered(self) -> list[WatchedFlow]:
        return [w for w in self.flows if w.flow.triggers]

    def run_once(self) -> list[Outcome]:
        """One pass: requeue the deliveries of dead workers, log new events, then run every
        matching flow not yet run for them."""
        self.events.reap(self.max_attempts, self._now_us())
        self.events.ingest(self.ws.graph)
        for watched in self.triggered:
            if watched.id not in self._since:
                catch_up = any(t.catch_up for t in watched.flow.triggers)
                self._since[watched.id] = self.events.subscribe(watched.id, catch_up)
        at_s = self.clock()
        for watched in self.triggered:
            for every_s in schedules(watched.flow):
                self.events.tick(watched.id, every_s, at_s)
        outcomes: list[Outcome] = []
        for watched in self.triggered:
            for event in self._pending(watched, self._now_us()):
                delivery = self.events.claim(event.id, watched.id, self.name, self._now_us())
                if delivery is not None:
                    outcomes.append(Outcome(event, watched.id, self._deliver(watched, event,
                                                                             delivery)))
        return outcomes

    def run(self, poll_s: float | None = None, stop: Callable[[], bool] = lambda: False,
            report: Callable[[Outcome], None] | None = None) -> None:
        """Pass after pass until ``stop()`` says so, sleeping ``poll_s`` (default
        ``POLL_S``) when idle."""
        while not stop():
            outcomes = self.run_once()
            for outcome in outcomes:
                if report:
                    report(outcome)
            if not outcomes:
                time.sleep(POLL_S if poll_s is None else poll_s)

    def _now_us(self) -> int:
        return int(self.clock() * 1_000_000)

    def _pending(self, watched: WatchedFlow, now: int) -> list[Event]:
        found: dict[int, Event] = {}
        for trigger in watched.flow.triggers:
            for event in self.events.pending(watched.id, selector(watched.flow, trigger),
                                             self._since[watched.id], now):
                if matches(watched.flow, trigger, event) and self.accept(event):
                    found[event.id] = event
        return [found[i] for i in sorted(found)]

    def _deliver(self, watched: WatchedFlow, event: Event, delivery: Delivery) -> Delivery:
        flow, trigger = watched.flow, f"event:{event.id}"
        runner = Runner(self.ws)
        noted: list[str] = []

        def note_run(task: TaskRecord) -> None:
            if not noted:
                noted.append(task.run_id)
                self.events.started(event.id, watched.id, task.run_id)

        run: RunRecord | None = None
        error: str | None = None
        with Heartbeat(lambda: self.events.beat(event.id, watched.id)):
            try:
                if delivery.run_id is not None:  # a retry: resume the failed run
                    old = self.ws.runs.get(delivery.run_id)
                    run = runner.run(flow, old.params, self.executor, resume_of=old.id,
                                     seed=old.seed, trigger=trigger, progress=note_run,
                                     source=watched.source)
                else:
                    params = {EVENT_PARAM: event.uri} if EVENT_PARAM in flow.params else {}
                    run = runner.run(flow, params, self.executor, trigger=trigger,
                                     progress=note_run, source=watched.source)
                if run.status != "succeeded":
                    error = run.error or f"run {run.id} ended {run.status}"
            except Exception as exc:  # a worker outlives any one flow: the error is the reason
                error = f"the run could not start: {exc}"
        run_id = run.id if run else (noted[0] if noted else None)
        return self.events.finish(event.id, watched.id, run_id, error, self.max_attempts,
                                  self.backoff_s, self._now_us())
