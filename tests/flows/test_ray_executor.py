"""The Ray executor: the same flow gives the same stored values as the local executor.

One small local Ray instance (2 CPUs, no GPU, no dashboard) serves the whole module; the
executor finds it initialised and uses it. One test joins a separate ``ray start`` cluster
through ``Settings.ray_address``.
"""

from __future__ import annotations

import random
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from reelgraph.core import Settings
from reelgraph.core.errors import ReelgraphError
from reelgraph.flows import Flow, Runner, RunRecord, StepContext, Workspace, load_flow

ray = pytest.importorskip("ray")
pytestmark = pytest.mark.slow

# Step functions live at module level, as in a user's module: Ray's workers cannot import
# this test module, so the executor has to send them by value.
equivalence = Flow("equivalence", namespace="tests", params={"n": 3, "scale": 1.0})


@equivalence.step
def numbers(n: int) -> list[int]:
    return list(range(n))


@equivalence.step(foreach="numbers", cpus=0.5)
def draws(item: int, scale: float) -> dict[str, Any]:
    return {"item": item, "py": random.random() * scale, "np": np.random.rand(3).tolist()}


@equivalence.step(retries=2, backoff_s=0.0)
def flaky(numbers: list[int], ctx: StepContext) -> dict[str, Any]:
    if ctx.attempt == 1:
        raise RuntimeError("the first attempt always fails")
    return {"attempt": ctx.attempt, "pick": random.choice(numbers), "np": float(np.random.rand())}


@equivalence.step
def joined(draws: list[dict[str, Any]], flaky: dict[str, Any], scale: float) -> dict[str, Any]:
    return {"items": [d["item"] for d in draws], "total": sum(d["py"] for d in draws),
            "flaky": flaky, "scale": scale}


greedy = Flow("greedy", namespace="tests")


@greedy.step
def prepare() -> int:
    return 1


@greedy.step(gpus=4)
def train(prepare: int) -> int:
    return prepare + 1


@pytest.fixture(scope="module")
def _ray_shutdown() -> Iterator[None]:
    yield
    ray.shutdown()


@pytest.fixture
def local_ray(_ray_shutdown: None) -> None:
    """A small local Ray instance, started once and shut down after the module."""
    if not ray.is_initialized():
        ray.init(address="local", num_cpus=2, num_gpus=0, include_dashboard=False,
                 log_to_driver=False)


def stored(ws: Workspace, run: RunRecord) -> dict[tuple[str, int | None], tuple[str, Any]]:
    """Every task's stored value and its digest, by (step, index)."""
    values = {}
    for task in run.tasks:
        assert task.artifact is not None, (task.step, task.index, task.error)
        values[(task.step, task.index)] = (task.artifact.digest, ws.artifacts.get(task.artifact))
    return values


def test_same_flow_same_values_on_local_and_ray(sqlite_workspace: Workspace,
                                                local_ray: None) -> None:
    runner = Runner(sqlite_workspace)
    params = {"n": "5", "scale": "2.5"}
    on_local = runner.run(equivalence, params, executor="local", seed=11)
    on_ray = runner.run(equivalence, params, executor="ray", seed=11)
    for run in (on_local, on_ray):
        assert run.status == "succeeded", run.error
        assert run.params == {"n": 5, "scale": 2.5}
        assert run.task("flaky").attempts == 2
    assert on_ray.executor == "ray" and on_local.executor == "local"
    local_values, ray_values = stored(sqlite_workspace, on_local), stored(sqlite_workspace, on_ray)
    assert set(ray_values) == {("numbers", None), ("flaky", None), ("joined", None),
                               *(("draws", i) for i in range(5))}
    assert ray_values == local_values  # same values, hence the same content digests
    joined_value = ray_values[("joined", None)][1]
    assert joined_value["items"] == [0, 1, 2, 3, 4] and joined_value["flaky"]["attempt"] == 2
    draws_values = [ray_values[("draws", i)][1]["py"] for i in range(5)]
    assert len(set(draws_values)) == 5  # each element has its own seed

    other_seed = runner.run(equivalence, params, executor="ray", seed=12)
    assert stored(sqlite_workspace, other_seed)[("joined", None)] != ray_values[("joined", None)]


def test_flow_loaded_from_a_file_runs_on_ray(tmp_path: Path, sqlite_workspace: Workspace,
                                              local_ray: None) -> None:
    source = tmp_path / "shipped_flow.py"
    source.write_text(textwrap.dedent('''
        import random

        from reelgraph.flows import Flow

        flow = Flow("shipped", namespace="tests", params={"n": 4})

        def square(x):  # a helper Ray's workers can only have by value
            return x * x

        @flow.step
        def items(n):
            return list(range(n))

        @flow.step(foreach="items")
        def squared(item):
            return square(item) + random.random()

        @flow.step
        def total(squared):
            return sum(squared)
    '''))
    flow = load_flow(source)
    runner = Runner(sqlite_workspace)
    on_ray = runner.run(flow, executor="ray", seed=3)
    assert on_ray.status == "succeeded", on_ray.error
    on_local = runner.run(flow, executor="local", seed=3)
    assert stored(sqlite_workspace, on_ray) == stored(sqlite_workspace, on_local)
    assert 14 < sqlite_workspace.load(on_ray.id, "total") < 18


def test_more_gpus_than_the_cluster_has_is_refused_before_anything_runs(
        sqlite_workspace: Workspace, local_ray: None) -> None:
    runner = Runner(sqlite_workspace)
    with pytest.raises(ReelgraphError) as refused:
        runner.run(greedy, executor="ray")
    message = str(refused.value)
    assert "step 'train' asks for 4 GPUs" in message and "has 0" in message
    assert "lower gpus=" in refused.value.fix
    assert sqlite_workspace.runs.list() == []  # nothing ran, nothing was recorded


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def ray_cluster(tmp_path: Path) -> Iterator[str]:
    """A separate one-node cluster, as a team would run; stopped with the process we started."""
    if ray.is_initialized():
        ray.shutdown()  # the executor must join the cluster itself
    port = _free_port()
    command = [str(Path(sys.executable).parent / "ray"), "start", "--head", "--block",
               f"--port={port}", "--num-cpus=2", "--num-gpus=0", "--include-dashboard=false",
               "--disable-usage-stats"]
    head = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    address = f"127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.2)
        yield address
    finally:
        head.terminate()  # --block: the ray start process stops what it started
        head.wait(timeout=60)


def test_runs_join_the_cluster_at_settings_ray_address(tmp_path: Path, ray_cluster: str
                                                       ) -> None:
    settings = Settings.load(home=str(tmp_path / "home"), database_url="",
                             ray_address=ray_cluster)
    with Workspace.open(settings) as ws:
        run = Runner(ws).run(equivalence, {"n": 2}, executor="ray", seed=5)
        assert run.status == "succeeded", run.error
        assert ws.load(run.id, "joined")["items"] == [0, 1]
    assert not ray.is_initialized()  # the executor left the cluster it joined
