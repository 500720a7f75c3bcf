"""Flow runs and worker tasks killed with SIGKILL: the dead run reads as failed (never
"running" for good), resume finishes it reusing what was done, resume refuses a live run,
forked workers die with their parent, a killed worker's delivery is retried by the next
worker, and `reelgraph events retry` requeues dead letters. Every step counts its executions
in a file, so "exactly once" is checked, not assumed."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fault_harness import Processes, crash, succeed

from reelgraph.core import Conflict, Settings
from reelgraph.flows import Runner, Workspace, load_flow
from reelgraph.flows.events import EventLog
from reelgraph.flows.worker import Worker

FLOW = """
from pathlib import Path
from reelgraph.flows import Flow

HERE = Path(__file__).parent
flow = Flow("counted", namespace="faults", params={"event_uri": ""})
flow.on_dataset("rg://dataset/faults/input")


def executed(step):
    with open(HERE / "executions.log", "a") as log:
        log.write(step + "\\n")


@flow.step
def first():
    executed("first")
    if (HERE / "block").exists():  # a step that waits to be released, its pid shown
        (HERE / "worker.pid").write_text(str(__import__("os").getpid()))
        while not (HERE / "release").exists():
            __import__("time").sleep(0.05)
    return 1


@flow.step
def second(first):
    executed("second")
    if (HERE / "broken").exists():
        raise RuntimeError("broken until fixed")
    return first + 1
"""

RUN = """
    import sys
    from reelgraph.core import Settings
    from reelgraph.flows import Runner, Workspace, load_flow
    ws = Workspace.open(Settings.load(home=sys.argv[1]))
    Runner(ws).run(load_flow(sys.argv[2]), source=sys.argv[2])
    ws.close()
"""

WORK = """
    import sys
    from reelgraph.core import Settings
    from reelgraph.flows import Workspace
    from reelgraph.flows.worker import Worker
    ws = Workspace.open(Settings.load(home=sys.argv[1]))
    Worker.from_paths(ws, [sys.argv[2]], backoff_s=0).run_once()
    ws.close()
"""


@pytest.fixture
def flow_file(tmp_path: Path) -> Path:
    folder = tmp_path / "flows"
    folder.mkdir()
    path = folder / "counted.py"
    path.write_text(FLOW)
    return path


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[Workspace]:
    workspace = Workspace.open(Settings.load(home=str(tmp_path / "home")))
    try:
        yield workspace
    finally:
        workspace.close()


@pytest.fixture
def any_ws(tmp_path: Path, graph_url: str) -> Iterator[Workspace]:
    """A workspace on SQLite, then on PostgreSQL (its URL reaches subprocesses through the
    environment, see ``db``)."""
    workspace = Workspace.open(Settings.load(home=str(tmp_path / "home"),
                                             database_url=graph_url))
    try:
        yield workspace
    finally:
        workspace.close()


def db(workspace: Workspace) -> dict[str, str]:
    return {"REELGRAPH_DATABASE_URL": workspace.settings.metadata_url}


def executions(flow_file: Path) -> list[str]:
    log = flow_file.with_name("executions.log")
    return log.read_text().split() if log.exists() else []


def wait_for(condition: object, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def exited(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return True
    return state in ("Z", "X")  # a zombie has exited; only its parent's reaping is left


def test_a_killed_run_reads_as_failed_and_resume_finishes_it_once(
        any_ws: Workspace, flow_file: Path) -> None:
    ws = any_ws
    crash(RUN, str(ws.settings.home), str(flow_file), point="flows.run.task_saved", **db(ws))  # type: ignore[arg-type]
    (run,) = ws.runs.list()
    assert run.status == "failed" and "died" in (run.error or "")
    assert executions(flow_file) == ["first"]

    resumed = Runner(ws).resume(run.id, load_flow(flow_file))
    assert resumed.status == "succeeded", resumed.error
    assert resumed.task("first").status == "reused"
    assert executions(flow_file) == ["first", "second"]  # each step ran once in all


def test_a_killed_task_worker_fails_its_task_cleanly_and_resume_finishes(
        ws: Workspace, flow_file: Path) -> None:
    succeed(RUN, str(ws.settings.home), str(flow_file), REELGRAPH_FAULT_POINT="flows.task.stored")
    (run,) = ws.runs.list()
    assert run.status == "failed" and "worker failed" in (run.error or "")
    resumed = Runner(ws).resume(run.id, load_flow(flow_file))
    assert resumed.status == "succeeded", resumed.error
    # The killed task had run its body, but its value was never recorded: it runs again.
    assert executions(flow_file) == ["first", "first", "second"]


def test_a_live_run_is_not_resumed_and_its_workers_die_with_it(
        ws: Workspace, flow_file: Path, processes: Processes) -> None:
    flow_file.with_name("block").touch()
    runner = processes.start(RUN, str(ws.settings.home), str(flow_file))
    pid_file = flow_file.with_name("worker.pid")
    wait_for(pid_file.exists)
    worker_pid = int(pid_file.read_text())
    (run,) = ws.runs.list()
    assert run.status == "running"
    with pytest.raises(Conflict, match="still running"):
        Runner(ws).resume(run.id, load_flow(flow_file))

    runner.kill()  # kill -9 of the run's own process
    runner.communicate()
    wait_for(lambda: exited(worker_pid), timeout_s=20)  # its forked worker follows it
    assert ws.runs.get(run.id).status == "failed"


def test_a_worker_killed_during_a_triggered_run_is_retried_once(
        any_ws: Workspace, flow_file: Path) -> None:
    ws = any_ws
    Worker.from_paths(ws, [flow_file]).run_once()  # subscribes the flow
    ws.graph.add("rg://dataset/faults/input", author="t")
    crash(WORK, str(ws.settings.home), str(flow_file), point="flows.run.task_saved", **db(ws))  # type: ignore[arg-type]
    events = EventLog(ws)
    try:
        (event,) = [e for e in events.list() if e.kind == "dataset"]
        assert [d.status for d in event.deliveries] == ["running"]  # its worker is dead

        (outcome,) = Worker.from_paths(ws, [flow_file], events=events).run_once()
        assert (outcome.delivery.status, outcome.delivery.attempts) == ("succeeded", 2)
        assert executions(flow_file) == ["first", "second"]  # resumed, not rerun
        assert Worker.from_paths(ws, [flow_file], events=events).run_once() == []
    finally:
        events.close()


def test_events_retry_requeues_a_dead_letter(ws: Workspace, flow_file: Path) -> None:
    flow_file.with_name("broken").touch()
    worker = Worker.from_paths(ws, [flow_file], max_attempts=1, backoff_s=0)
    worker.run_once()
    ws.graph.add("rg://dataset/faults/input", author="t")
    (dead,) = worker.run_once()
    assert dead.delivery.status == "dead"

    flow_file.with_name("broken").unlink()
    out = succeed("from reelgraph.cli import main; main()", "--home", str(ws.settings.home),
                  "events", "retry")
    assert f"event {dead.event.id} -> flow faults/counted: requeued" in out
    (retried,) = worker.run_once()
    assert retried.delivery.status == "succeeded"
    assert executions(flow_file).count("second") == 2  # the failed attempt and the retry
    assert executions(flow_file).count("first") == 1  # finished work was reused
