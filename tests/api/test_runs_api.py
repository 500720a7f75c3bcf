"""``/api/v1/runs`` and ``/api/v1/events`` over real runs and a real dead letter, on SQLite
and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from reelgraph.api import create_app
from reelgraph.core import Settings
from reelgraph.flows import Flow, Runner, Workspace
from reelgraph.flows.worker import Worker

TOKEN = "s3cret-token"

flow = Flow("api-flow", namespace="tests", params={"fail": False})


@flow.step
def numbers() -> list[int]:
    print("three numbers")
    return [1, 2, 3]


@flow.step
def total(numbers: list[int], fail: bool) -> int:
    if fail:
        raise ValueError("asked to fail")
    return sum(numbers)


broken = Flow("api-broken", namespace="tests").on_dataset("rg://dataset/ml/ratings")


@broken.step
def explode() -> None:
    raise RuntimeError("the input is unusable")


@pytest.fixture
def settings(tmp_path: Path, graph_url: str) -> Settings:
    return Settings.load(home=str(tmp_path), database_url=graph_url, api_token=TOKEN)


@pytest.fixture
def workspace(settings: Settings) -> Iterator[Workspace]:
    with Workspace.open(settings) as ws:
        yield ws


@pytest.fixture
def client(settings: Settings, workspace: Workspace) -> Iterator[TestClient]:
    with TestClient(create_app(settings, workspace.graph)) as test_client:
        yield test_client


def test_runs_list_show_and_logs(client: TestClient, workspace: Workspace) -> None:
    good = Runner(workspace).run(flow)
    bad = Runner(workspace).run(flow, {"fail": "true"})
    runs = client.get("/api/v1/runs").json()["runs"]
    assert {r["id"]: r["status"] for r in runs} == {good.id: "succeeded", bad.id: "failed"}
    failed = client.get("/api/v1/runs", params={"status": "failed"}).json()["runs"]
    assert [r["id"] for r in failed] == [bad.id]

    shown = client.get(f"/api/v1/runs/{bad.id}").json()
    assert shown["params"] == {"fail": True} and shown["steps"]["total"] == "failed"
    assert "asked to fail" in shown["error"]
    assert {t["step"] for t in shown["tasks"]} == {"numbers", "total"}

    logs = client.get(f"/api/v1/runs/{bad.id}/logs").json()["tasks"]
    by_step = {t["step"]: t for t in logs}
    assert by_step["numbers"]["log"].strip() == "three numbers"
    assert "ValueError: asked to fail" in by_step["total"]["traceback"]
    only = client.get(f"/api/v1/runs/{bad.id}/logs", params={"step": "numbers"}).json()
    assert [t["step"] for t in only["tasks"]] == ["numbers"]


def test_unknown_run_or_step_is_a_404(client: TestClient, workspace: Workspace) -> None:
    missing = client.get("/api/v1/runs/nope")
    assert missing.status_code == 404 and missing.json()["error"] == "NotFound"
    run = Runner(workspace).run(flow)
    step = client.get(f"/api/v1/runs/{run.id}/logs", params={"step": "nope"})
    assert step.status_code == 404 and "numbers" in step.json()["fix"]


def test_events_show_dead_letters_with_the_reason(client: TestClient,
                                                  workspace: Workspace) -> None:
    worker = Worker(workspace, [broken], max_attempts=1)
    try:
        worker.run_once()
        workspace.graph.add("rg://dataset/ml/ratings", author="t")
        (outcome,) = worker.run_once()
    finally:
        worker.close()
    assert outcome.delivery.status == "dead"
    every = client.get("/api/v1/events").json()["events"]
    assert [e["uri"] for e in every] == ["rg://dataset/ml/ratings"]
    (dead,) = client.get("/api/v1/events", params={"dead": True}).json()["events"]
    (delivery,) = dead["deliveries"]
    assert delivery["status"] == "dead" and delivery["flow"] == "tests/api-broken"
    assert "the input is unusable" in delivery["error"]
    run = client.get(f"/api/v1/runs/{delivery['run_id']}").json()
    assert run["trigger"] == f"event:{dead['id']}"


def test_reads_need_the_token_when_reads_are_closed(tmp_path: Path, graph_url: str,
                                                    workspace: Workspace) -> None:
    closed = Settings.load(home=str(tmp_path), database_url=graph_url, api_token=TOKEN,
                           open_reads=False)
    with TestClient(create_app(closed, workspace.graph)) as test_client:
        assert test_client.get("/api/v1/runs").status_code == 401
        assert test_client.get("/api/v1/events").status_code == 401
        ok = test_client.get("/api/v1/runs", headers={"Authorization": f"Bearer {TOKEN}"})
        assert ok.status_code == 200 and ok.json() == {"runs": []}
