"""``/api/v1/registry`` on SQLite and PostgreSQL, over versions registered from a real flow run:
register, gates, promotion (a refusal answers 409 with its numbers), audit, consumers,
writes behind the token, and bad input that stores nothing."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest
from fastapi.testclient import TestClient

from reelgraph.api import create_app
from reelgraph.core import Settings
from reelgraph.flows import Runner, RunRecord, Workspace, load_flow

FLOW_FILE = Path(__file__).parents[1] / "flows" / "registry_flow.py"
TOKEN = "registry-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
BASE = "/api/v1/registry/models/personalization/popularity"


@dataclass
class Api:
    client: TestClient
    ws: Workspace
    run: RunRecord
    data: ModuleType

    def register(self, **metrics: float) -> int:
        answer = self.client.post(f"{BASE}/versions", headers=AUTH, json={
            "run_id": self.run.id, "metrics": metrics, "owner": "perso-team",
            "signature": {"inputs": {"user": "int"}}})
        assert answer.status_code == 201, answer.text
        version: int = answer.json()["version"]
        return version

    def move(self, version: int, stage: str, who: str = "ana"):  # -> the client's Response
        return self.client.post(f"{BASE}/versions/{version}/stage", headers=AUTH,
                                json={"stage": stage, "who": who, "why": "test"})


@pytest.fixture
def api(tmp_path: Path, graph_url: str) -> Iterator[Api]:
    settings = Settings.load(home=tmp_path, database_url=graph_url, api_token=TOKEN)
    ws = Workspace.open(settings)
    flow = load_flow(FLOW_FILE, "popularity")
    data = sys.modules[flow.steps["ratings"].fn.__module__]
    data.seed(ws.graph)
    run = Runner(ws).run(flow)
    try:
        with TestClient(create_app(settings, ws.graph)) as client:
            yield Api(client, ws, run, data)
    finally:
        ws.close()


def test_register_promote_through_gates_and_audit(api: Api) -> None:
    c = api.client
    v1 = api.register(**{"ndcg@10": 0.25})
    gate = {"stage": "production",
            "gate": {"kind": "metric_not_worse", "metric": "ndcg@10", "margin": 0.01}}
    answer = c.post(f"{BASE}/gates", headers=AUTH, json=gate)
    assert answer.status_code == 200 and answer.json()["name"] == "metric_not_worse:ndcg@10"
    assert api.move(v1, "staging").status_code == 200
    promoted = api.move(v1, "production")
    assert promoted.json()["outcome"] == "applied"
    assert promoted.json()["gates"][0]["passed"] is True

    v2 = api.register(**{"ndcg@10": 0.212})
    api.move(v2, "staging")
    refused = api.move(v2, "production", who="bob")
    assert refused.status_code == 409
    body = refused.json()
    assert body["error"] == "PromotionRefused"
    assert "ndcg@10 = 0.212 is worse than production v1's 0.25 by 0.038" in body["problem"]
    assert body["gates"] == [{"gate": "metric_not_worse:ndcg@10", "passed": False,
                              "detail": "ndcg@10 = 0.212 is worse than production v1's 0.25 "
                                        "by 0.038, more than the margin 0.01"}]

    model = c.get(BASE).json()
    assert (model["production"], model["latest"]) == (1, 2)
    assert [v["stage"] for v in model["versions"]] == ["production", "staging"]
    assert c.get(f"{BASE}/stages/production").json()["version"] == 1
    assert c.get(f"{BASE}/versions/2").json()["metrics"] == {"ndcg@10": 0.212}
    listed = c.get("/api/v1/registry/models").json()["models"]
    assert [m["name"] for m in listed] == ["personalization/popularity"]
    audit = c.get(f"{BASE}/audit").json()["transitions"]
    assert [(t["version"], t["to_stage"], t["outcome"], t["who"]) for t in audit] == [
        (1, "staging", "applied", "ana"), (1, "production", "applied", "ana"),
        (2, "staging", "applied", "ana"), (2, "production", "refused", "bob")]
    assert c.get(f"{BASE}/audit", params={"version": 2}).json()["transitions"][1]["gates"][0][
        "passed"] is False
    gates = c.get(f"{BASE}/gates").json()["gates"]
    assert [g["gate"]["margin"] for g in gates] == [0.01]


def test_consumers_over_http_reach_impact(api: Api) -> None:
    c = api.client
    v1 = api.register(ndcg=0.2)
    api.move(v1, "staging")
    api.move(v1, "production")
    answer = c.post(f"{BASE}/consumers", headers=AUTH,
                    json={"consumer": "messaging/notifications", "owner": "msg-team"})
    assert answer.status_code == 200 and answer.json()["owner"] == "msg-team"
    assert [x["consumer"] for x in c.get(f"{BASE}/consumers").json()["consumers"]] == [
        "messaging/notifications"]
    impact = c.get("/api/v1/graph/impact", params={"uri": api.data.DATASET}).json()
    assert [n["uri"] for n in impact["affected"]["consumer"]] == [
        "rg://consumer/messaging/notifications"]
    gone = c.delete(f"{BASE}/consumers", headers=AUTH,
                    params={"consumer": "messaging/notifications"})
    assert gone.status_code == 204
    assert c.get(f"{BASE}/consumers").json()["consumers"] == []


def test_writes_need_the_token_and_bad_input_stores_nothing(api: Api) -> None:
    c = api.client
    v1 = api.register(ndcg=0.2)
    before = (c.get(BASE).json(), c.get(f"{BASE}/audit").json(), c.get(f"{BASE}/gates").json())

    no_token = c.post(f"{BASE}/versions", json={"run_id": api.run.id})
    assert no_token.status_code == 401
    cases = [
        (c.post(f"{BASE}/versions", headers=AUTH, json={"run_id": "nope"}), 404, "no run"),
        (c.post(f"{BASE}/versions", headers=AUTH, json={"run_id": api.run.id, "step": "x"}),
         404, "has no task 'x'"),
        (c.post(f"{BASE}/versions", headers=AUTH, json={"run_id": api.run.id, "metric": {}}),
         422, "metric"),
        (api.move(v1, "production"), 409, "cannot move from none to production"),
        (api.move(7, "staging"), 404, "has no version 7"),
        # Issue 16, item 9: a number past int64 answered 500 (PostgreSQL: out of range).
        (api.move(2**64, "staging"), 404, f"has no version {2**64}"),
        (c.get(f"{BASE}/versions/{2**64}"), 404, f"has no version {2**64}"),
        (api.move(v1, "live"), 422, "stage"),
        (c.post(f"{BASE}/gates", headers=AUTH, json={"gate": {"kind": "vibes"}}), 422,
         "unknown gate kind 'vibes'"),
        (c.post(f"{BASE}/gates", headers=AUTH,
                json={"gate": {"kind": "metric_at_least", "metric": "n", "threshold": "high"}}),
         422, "not a finite number"),
        (c.post(f"{BASE}/consumers", headers=AUTH, json={"consumer": "no-namespace"}), 422,
         "NAMESPACE/NAME"),
        (c.get("/api/v1/registry/models/x/y"), 404, "no model named 'x/y'"),
    ]
    for answer, status, words in cases:
        assert answer.status_code == status, (words, answer.text)
        assert words in answer.json()["problem"], (words, answer.text)
        assert answer.json()["fix"]
    after = (c.get(BASE).json(), c.get(f"{BASE}/audit").json(), c.get(f"{BASE}/gates").json())
    assert after == before
