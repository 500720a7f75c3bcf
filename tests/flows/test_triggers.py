"""Triggers, the event log and the worker, on SQLite and PostgreSQL: a new dataset revision,
a media asset and a schedule tick each start a flow once (however often workers pass and
however many processes run them); a failing run is retried, then dead-lettered."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from clips import write_clip

from reelgraph.core.errors import Conflict, InvalidInput
from reelgraph.flows import Flow, Workspace, load_flow
from reelgraph.flows.events import Event, EventLog
from reelgraph.flows.triggers import matches
from reelgraph.flows.worker import WatchedFlow, Worker
from reelgraph.media import MediaLibrary

RATINGS = "rg://dataset/ml/ratings"



def add_asset(workspace: Workspace, folder: Path, name: str, shade: int = 0) -> str:
    """A really probed media asset (the graph refuses a bare ``media_asset`` node): its URI."""
    clip = write_clip(folder / name, shade=shade)
    return MediaLibrary(workspace.graph).add(str(clip), author="t").uri

def write_flow(folder: Path, name: str, body: str) -> Path:
    path = folder / f"{name}.py"
    path.write_text("from pathlib import Path\nfrom reelgraph.flows import Flow\n\n"
                    + textwrap.dedent(body))
    return path


def runs_of(ws: Workspace, trigger: str) -> list[str]:
    return [r.id for r in ws.runs.list(limit=1000) if r.trigger == trigger]


@pytest.fixture
def events(workspace: Workspace) -> Iterator[EventLog]:
    log = EventLog(workspace)
    try:
        yield log
    finally:
        log.close()


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def ratings_flow(tmp_path: Path) -> Path:
    return write_flow(tmp_path, "on_ratings", f"""
        flow = Flow("on-ratings", namespace="tests", params={{"event_uri": ""}})
        flow.on_dataset("{RATINGS}")

        @flow.step
        def seen(event_uri):
            return event_uri
    """)


def test_a_new_dataset_revision_starts_one_run(workspace: Workspace, events: EventLog,
                                               tmp_path: Path) -> None:
    workspace.graph.add(f"{RATINGS}@1", author="t")  # before the flow is watched: no run
    worker = Worker.from_paths(workspace, [ratings_flow(tmp_path)], events=events)
    assert worker.run_once() == []

    workspace.graph.add(f"{RATINGS}@2", author="t", description="a new version")
    workspace.graph.add("rg://dataset/ml/movies", author="t")  # another dataset
    workspace.graph.add("rg://dataset/ml/ratings_v", author="t")  # a name that only starts so
    first = worker.run_once()
    assert [(o.event.uri, o.delivery.status) for o in first] == [(f"{RATINGS}@2", "succeeded")]
    event = first[0].event
    assert worker.run_once() == []
    again = Worker.from_paths(workspace, [ratings_flow(tmp_path)], events=events)
    assert again.run_once() == []

    (run_id,) = runs_of(workspace, f"event:{event.id}")
    run = workspace.runs.get(run_id)
    assert run.status == "succeeded" and run.params["event_uri"] == f"{RATINGS}@2"
    assert run.source == str(tmp_path.joinpath("on_ratings.py").resolve())
    assert workspace.artifacts.get(workspace.runs.artifact(run_id, "seen")) == f"{RATINGS}@2"
    logged = {e.uri for e in events.list()}
    assert logged == {f"{RATINGS}@1", f"{RATINGS}@2", "rg://dataset/ml/movies",
                      "rg://dataset/ml/ratings_v"}  # every change is logged, once


@pytest.mark.slow  # separate processes, each importing the stack
def test_two_worker_processes_never_start_an_event_twice(workspace: Workspace,
                                                         events: EventLog,
                                                         tmp_path: Path) -> None:
    flow_file = write_flow(tmp_path, "slow", """
        import time
        flow = Flow("slow", namespace="tests")
        flow.on_dataset()

        @flow.step
        def wait():
            time.sleep(0.3)  # widens the window in which both workers see the event
            return 1
    """)
    Worker.from_paths(workspace, [flow_file], events=events).run_once()  # subscribes
    for n in range(3):
        workspace.graph.add(f"rg://dataset/ml/part-{n}", author="t")
    settings = workspace.settings
    command = [sys.executable, "-c", "from reelgraph.cli import main; main()",
               "--home", str(settings.home), "--database-url", settings.metadata_url,
               "worker", "--once", "--flows", str(flow_file)]
    workers = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True) for _ in range(2)]
    outputs = [w.communicate(timeout=300) for w in workers]
    assert [w.returncode for w in workers] == [0, 0], outputs

    logged = [e for e in events.list() if e.kind == "dataset"]
    assert len(logged) == 3
    for event in logged:
        assert len(runs_of(workspace, f"event:{event.id}")) == 1
        (delivery,) = event.deliveries
        assert (delivery.status, delivery.attempts) == ("succeeded", 1)
    started = sum(out.count("succeeded") for out, _ in outputs)
    assert started == 3  # the two processes shared the work, each event once


def test_a_media_asset_starts_a_flow(workspace: Workspace, events: EventLog,
                                     tmp_path: Path) -> None:
    flow_file = write_flow(tmp_path, "media", """
        flow = Flow("thumbnails", namespace="tests", params={"event_uri": ""})
        flow.on_media_asset()

        @flow.step
        def thumb(event_uri):
            return event_uri.upper()
    """)
    worker = Worker.from_paths(workspace, [flow_file], events=events)
    worker.run_once()
    add_asset(workspace, tmp_path, "trailer.mp4")
    workspace.graph.add("rg://dataset/studio/catalog", author="t")
    (outcome,) = worker.run_once()
    assert outcome.event.kind == "media_asset" and outcome.delivery.status == "succeeded"
    assert worker.run_once() == []
    assert len(runs_of(workspace, f"event:{outcome.event.id}")) == 1


def test_a_worker_runs_only_the_events_it_accepts(workspace: Workspace, events: EventLog,
                                                  tmp_path: Path) -> None:
    """As the demo does: its own assets' events, leaving another user's alone."""
    flow_file = write_flow(tmp_path, "media", """
        flow = Flow("thumbnails", namespace="tests", params={"event_uri": ""})
        flow.on_media_asset(catch_up=True)

        @flow.step
        def thumb(event_uri):
            return event_uri.upper()
    """)
    theirs = add_asset(workspace, tmp_path, "theirs.mp4", shade=1)
    mine = add_asset(workspace, tmp_path, "mine.mp4")
    own = Worker.from_paths(workspace, [flow_file], events=events,
                            accept=lambda event: event.uri == mine)
    assert [o.event.uri for o in own.run_once()] == [mine]
    assert own.run_once() == []
    everyone = Worker.from_paths(workspace, [flow_file], events=events)
    assert [o.event.uri for o in everyone.run_once()] == [theirs]  # still pending for others


def test_a_schedule_is_logged_and_run_once_per_slot(workspace: Workspace, events: EventLog,
                                                    tmp_path: Path) -> None:
    flow_file = write_flow(tmp_path, "hourly", """
        flow = Flow("hourly", namespace="tests").every(60)

        @flow.step
        def tick():
            return 1
    """)
    clock = Clock(120.5)  # slot 2 of a 60 s period
    worker = Worker.from_paths(workspace, [flow_file], events=events, clock=clock)
    other = Worker.from_paths(workspace, [flow_file], events=events, clock=clock)
    assert len(worker.run_once()) == 1
    assert worker.run_once() == [] and other.run_once() == []
    clock.now = 179.9  # the same slot
    assert worker.run_once() == [] and other.run_once() == []
    clock.now = 180.0  # the next one
    assert len(other.run_once()) == 1 and worker.run_once() == []
    ticks = [e for e in events.list() if e.kind == "schedule"]
    assert sorted(e.payload["slot"] for e in ticks) == [2, 3]
    assert all(e.flow == "tests/hourly" for e in ticks)
    assert all(len(runs_of(workspace, f"event:{e.id}")) == 1 for e in ticks)


def test_a_failing_run_is_retried_then_dead_lettered(workspace: Workspace, events: EventLog,
                                                     tmp_path: Path) -> None:
    flow_file = write_flow(tmp_path, "broken", f"""
        flow = Flow("broken", namespace="tests")
        flow.on_dataset("{RATINGS}")

        @flow.step
        def load():
            return [1, 2]

        @flow.step
        def fit(load):
            raise ValueError("ratings have no user column")
    """)
    clock = Clock(1_000.0)
    worker = Worker.from_paths(workspace, [flow_file], events=events, max_attempts=2,
                               backoff_s=30, clock=clock)
    worker.run_once()
    workspace.graph.add(RATINGS, author="t")
    (first,) = worker.run_once()
    assert (first.delivery.status, first.delivery.attempts) == ("retrying", 1)
    assert first.delivery.next_at == 1_030 * 1_000_000
    assert worker.run_once() == []  # the retry is not due yet
    clock.now = 1_030.0
    (second,) = worker.run_once()
    assert (second.delivery.status, second.delivery.attempts) == ("dead", 2)
    assert "ratings have no user column" in (second.delivery.error or "")
    clock.now = 10_000.0
    assert worker.run_once() == []  # dead letters stay dead

    runs = runs_of(workspace, f"event:{first.event.id}")
    assert sorted(runs) == sorted(second.delivery.runs) and len(runs) == 2
    retry = workspace.runs.get(second.delivery.runs[1])
    assert retry.resume_of == second.delivery.runs[0]
    assert retry.task("load").status == "reused"  # the retry resumed the failed run
    (dead,) = events.list(dead=True)
    assert dead.id == first.event.id and dead.deliveries[0].status == "dead"


def test_a_flaky_run_succeeds_on_retry(workspace: Workspace, events: EventLog,
                                       tmp_path: Path) -> None:
    marker = tmp_path / "failed-once"
    flow_file = write_flow(tmp_path, "flaky", f"""
        flow = Flow("flaky", namespace="tests").on_media_asset()

        @flow.step
        def work():
            marker = Path({str(marker)!r})
            if not marker.exists():
                marker.write_text("x")
                raise RuntimeError("the first attempt fails")
            return "ok"
    """)
    worker = Worker.from_paths(workspace, [flow_file], events=events, backoff_s=0)
    worker.run_once()
    add_asset(workspace, tmp_path, "clip.mp4")
    (first,) = worker.run_once()
    (second,) = worker.run_once()
    assert first.delivery.status == "retrying" and second.delivery.status == "succeeded"
    assert second.delivery.attempts == 2 and events.list(dead=True) == []


def test_trigger_matching() -> None:
    flow = Flow("f")

    def event(uri: str | None, kind: str = "dataset") -> Event:
        return Event(1, "k", kind, uri, None, {}, 0)

    flow.on_dataset("rg://dataset/ml/a_b").on_dataset("rg://dataset/ml/pinned@3").on_dataset()
    by_uri, pinned, anything = flow.triggers
    assert matches(flow, by_uri, event("rg://dataset/ml/a_b@7"))
    assert matches(flow, by_uri, event("rg://dataset/ml/a_b"))
    assert not matches(flow, by_uri, event("rg://dataset/ml/aXb@7"))  # '_' is no wildcard
    assert not matches(flow, by_uri, event("rg://dataset/ml/a_b/c"))
    assert matches(flow, pinned, event("rg://dataset/ml/pinned@3"))
    assert not matches(flow, pinned, event("rg://dataset/ml/pinned@4"))
    assert matches(flow, anything, event("rg://dataset/x/y"))
    assert not matches(flow, anything, event("rg://media_asset/x/y", "media_asset"))


def test_bad_worker_options_are_refused(sqlite_workspace: Workspace, tmp_path: Path) -> None:
    flow = load_flow(ratings_flow(tmp_path))
    with pytest.raises(Conflict, match="two flows"):
        Worker(sqlite_workspace, [WatchedFlow(flow), WatchedFlow(flow)])
    with pytest.raises(InvalidInput, match="max_attempts"):
        Worker(sqlite_workspace, [flow], max_attempts=0)


def test_a_long_running_worker_passes_until_stopped(sqlite_workspace: Workspace,
                                                    tmp_path: Path) -> None:
    flow_file = write_flow(tmp_path, "ticking", """
        flow = Flow("ticking", namespace="tests").every(3600)

        @flow.step
        def tick():
            return 1
    """)
    worker = Worker.from_paths(sqlite_workspace, [flow_file], clock=Clock(7200.0))
    passes: list[int] = []
    reported: list[str] = []

    def stop() -> bool:  # counts the worker's passes; stops after the fourth
        passes.append(1)
        return len(passes) > 3

    try:
        worker.run(poll_s=0, stop=stop,
                   report=lambda outcome: reported.append(outcome.delivery.status))
    finally:
        worker.close()
    assert len(passes) == 4 and reported == ["succeeded"]  # three passes, one tick
