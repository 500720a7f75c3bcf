"""Running flows: values, parallelism, failures, retries, resume, cache, lineage."""

from __future__ import annotations

import os
import random
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from reelgraph.flows import Flow, Runner, Workspace

RATINGS = "rg://dataset/movielens/ratings"

fanout = Flow("fanout", namespace="tests", params={"n": 4, "scale": 10})


@fanout.step(reads=[RATINGS])
def numbers(n: int) -> list[int]:
    return list(range(n))


@fanout.step(foreach="numbers")
def scaled(item: int, scale: int) -> int:
    print(f"scaling {item}")
    return item * scale


@fanout.step
def noise(ctx: object) -> list[float]:
    return [random.random(), float(np.random.rand())]


@fanout.step
def total(scaled: list[int], noise: list[float]) -> dict[str, object]:
    return {"sum": sum(scaled), "noise": noise}


def test_values_foreach_join_and_seeds(workspace: Workspace) -> None:
    workspace.graph.add(RATINGS)
    runner = Runner(workspace)
    run = runner.run(fanout, {"n": "5"}, seed=7)
    assert run.status == "succeeded", run.error
    assert workspace.load(run.id, "total")["sum"] == 100
    assert workspace.load(run.id, "scaled", 3) == 30
    assert [t.index for t in run.tasks if t.step == "scaled"] == [0, 1, 2, 3, 4]
    assert "scaling 2" in run.task("scaled", 2).log
    again = runner.run(fanout, {"n": "5"}, seed=7)
    assert workspace.load(again.id, "total")["noise"] == workspace.load(run.id, "total")["noise"]
    other = runner.run(fanout, {"n": "5"}, seed=8)
    assert workspace.load(other.id, "total")["noise"] != workspace.load(run.id, "total")["noise"]
    assert run.params == {"n": 5, "scale": 10} and run.code_hash == fanout.code_hash
    assert "reelgraph" in run.packages and run.seed == 7


def test_lineage_is_recorded_without_graph_code(workspace: Workspace) -> None:
    workspace.graph.add(RATINGS)
    run = Runner(workspace).run(fanout)
    uri = f"rg://run/tests/fanout/{run.id}"
    node = workspace.graph.show(uri)
    assert node.properties["status"] == "succeeded"
    upstream = workspace.graph.lineage(uri, "upstream")
    assert {n.uri for n in upstream.nodes.values()} >= {RATINGS, "rg://job/tests/fanout"}
    downstream = workspace.graph.lineage(RATINGS, "downstream")
    artifacts = {n.uri for n in downstream.of_kind("artifact")}
    assert f"rg://artifact/tests/fanout/total@{run.id}" in artifacts
    assert len(workspace.graph.show(f"rg://artifact/tests/fanout/scaled@{run.id}")
               .properties["digests"]) == 4


parallel = Flow("parallel", namespace="tests")


@parallel.step
def left() -> float:
    time.sleep(0.5)
    return time.time()


@parallel.step
def right() -> float:
    time.sleep(0.5)
    return time.time()


@parallel.step
def both(left: float, right: float) -> int:
    return os.getpid()


def test_independent_branches_run_in_parallel(sqlite_workspace: Workspace) -> None:
    run = Runner(sqlite_workspace).run(parallel)
    left_task, right_task = run.task("left"), run.task("right")
    assert left_task.started_at and right_task.started_at and left_task.ended_at
    # The two sleeps overlap: each started before the other ended.
    assert right_task.started_at < left_task.ended_at
    assert left_task.started_at < (right_task.ended_at or 0)
    assert sqlite_workspace.load(run.id, "both") != os.getpid()  # ran in a worker process


flaky = Flow("flaky", namespace="tests", params={"marker": "", "fail_always": False})


@flaky.step
def prepare() -> int:
    return 41


@flaky.step(retries=2, backoff_s=0.05)
def unstable(prepare: int, marker: str, fail_always: bool) -> int:
    path = Path(marker)
    attempts = int(path.read_text()) + 1 if path.exists() else 1
    path.write_text(str(attempts))
    if fail_always or attempts < 2:
        raise RuntimeError(f"attempt {attempts} failed")
    return prepare + 1


@flaky.step
def finish(unstable: int) -> int:
    return unstable * 2


def test_retries_with_backoff(sqlite_workspace: Workspace, tmp_path: Path) -> None:
    run = Runner(sqlite_workspace).run(flaky, {"marker": str(tmp_path / "m")})
    assert run.status == "succeeded"
    assert run.task("unstable").attempts == 2
    assert sqlite_workspace.load(run.id, "finish") == 84


def test_failed_run_keeps_traceback_and_resumes(workspace: Workspace, tmp_path: Path) -> None:
    runner = Runner(workspace)
    marker = tmp_path / "m"
    failed = runner.run(flaky, {"marker": str(marker), "fail_always": True})
    assert failed.status == "failed"
    task = failed.task("unstable")
    assert task.status == "failed" and task.attempts == 3
    assert "RuntimeError: attempt 3 failed" in (task.traceback or "")
    assert "step 'unstable' failed after 3 attempt(s)" in (failed.error or "")
    assert failed.step_status() == {"prepare": "succeeded", "unstable": "failed"}
    assert workspace.graph.show(f"rg://run/tests/flaky/{failed.id}").properties[
        "status"] == "failed"
    # Resume: the finished step is reused, the failed one runs again (now it can pass).
    marker.write_text("1")
    resumed = runner.resume(failed.id, flaky)
    assert resumed.status == "failed"  # same params: fail_always is still True
    assert resumed.task("prepare").status == "reused"
    fixed = runner.run(flaky, {"marker": str(marker), "fail_always": False},
                       resume_of=failed.id)
    assert fixed.status == "succeeded", fixed.error
    assert fixed.resume_of == failed.id
    assert fixed.task("prepare").status == "reused"
    assert fixed.task("prepare").reused_from == failed.id
    assert fixed.task("unstable").status == "succeeded"


unstorable = Flow("unstorable", namespace="tests")


@unstorable.step(retries=3)
def lock() -> object:
    return threading.Lock()


def test_unstorable_value_names_step_and_value(sqlite_workspace: Workspace) -> None:
    run = Runner(sqlite_workspace).run(unstorable)
    assert run.status == "failed"
    task = run.task("lock")
    assert task.attempts == 1  # storing again would fail again: no retries
    assert "the value of step 'lock'" in (task.error or "") and "lock" in (task.error or "")
    assert "cannot be stored" in (run.error or "")


counted = Flow("counted", namespace="tests", params={"marker": ""})


@counted.step
def count(marker: str) -> int:
    path = Path(marker)
    calls = int(path.read_text()) + 1 if path.exists() else 1
    path.write_text(str(calls))
    return 5


@counted.step
def doubled(count: int) -> int:
    return count * 2


def test_cache_reuses_only_when_asked(sqlite_workspace: Workspace, tmp_path: Path) -> None:
    runner = Runner(sqlite_workspace)
    params = {"marker": str(tmp_path / "calls")}
    runner.run(counted, params)
    runner.run(counted, params)
    assert (tmp_path / "calls").read_text() == "2"
    cached = runner.run(counted, params, use_cache=True)
    assert (tmp_path / "calls").read_text() == "2"
    assert {t.status for t in cached.tasks} == {"reused"}
    assert sqlite_workspace.load(cached.id, "doubled") == 10
    other = runner.run(counted, {"marker": str(tmp_path / "other")}, use_cache=True)
    assert other.task("count").status == "succeeded"  # a different parameter: no reuse


def test_foreach_over_a_non_list_fails_clearly(sqlite_workspace: Workspace) -> None:
    flow = Flow("bad-foreach", namespace="tests")

    @flow.step
    def source() -> int:
        return 3

    @flow.step(foreach="source")
    def each(item: int) -> int:
        return item

    run = Runner(sqlite_workspace).run(flow)
    assert run.status == "failed"
    assert "returned a int, not a list" in (run.error or "")


@pytest.mark.parametrize("executor", ["nope"])
def test_unknown_executor(sqlite_workspace: Workspace, executor: str) -> None:
    from reelgraph.core.errors import InvalidInput

    with pytest.raises(InvalidInput, match="unknown executor"):
        Runner(sqlite_workspace).run(counted, {"marker": "x"}, executor=executor)
    assert sqlite_workspace.runs.list() == []


@pytest.mark.timeout(120)  # the failure this guards against is a hang
def test_steps_use_torch_after_the_parent_did(sqlite_workspace: Workspace) -> None:
    torch = pytest.importorskip("torch")
    x = torch.randn(512, 512)
    for _ in range(3):  # the parent starts its OpenMP thread pool
        (x @ x).sum()
        torch.relu(x).sum()
        x.sum(dim=0)
    flow = Flow("torch-after-parent")

    @flow.step
    def sums() -> list[int]:
        return [1, 2]

    @flow.step(foreach="sums")
    def train(item: int) -> float:
        layer = torch.nn.Embedding(1000, 16)
        loss = layer(torch.randint(0, 1000, (2048,))).pow(2).mean() * item
        loss.backward()
        big = torch.randn(512, 512)  # large enough for a parallel region
        return float(loss.detach()) + float(torch.relu(big).sum() * 0)

    run = Runner(sqlite_workspace).run(flow)
    assert run.status == "succeeded", run.error
