"""``reelgraph ops ...`` and ``/api/v1/ops``: listings, writes behind the token, and one-line
errors / 404s for unknown requests, incidents, monitors and rules (nothing is stored)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cli_harness import Cli
from fastapi.testclient import TestClient

from reelgraph.api import create_app
from reelgraph.core import Settings
from reelgraph.flows import Workspace
from reelgraph.ops import RecSysOps
from reelgraph.ops.store import CheckRow

TOKEN = "ops-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def test_cli_lists_and_refuses_unknown_ids_in_one_line(tmp_path: Path) -> None:
    cli = Cli(tmp_path / "home", f"sqlite:///{tmp_path / 'db.sqlite'}", ("ops",))
    assert cli.json("monitors") == []
    assert cli.json("incidents") == []
    assert "no logged request 'nope'" in cli.fails("replay", "nope")
    assert "no logged request 'nope'" in cli.fails("explain", "nope")
    assert "no model" in cli.fails("shadow", "2")
    assert "no incident inc-7" in cli.fails("incidents", "inc-7")
    assert "unknown rule action" in cli.fails("block", "1", "--action", "bury")
    assert "no active rule 3" in cli.fails("unblock", "3")
    assert "no model" in cli.fails("rollback", "--who", "me")
    with Workspace.open(Settings.load(home=str(tmp_path / "home"),
                                      database_url=f"sqlite:///{tmp_path / 'db.sqlite'}")
                        ) as ws:
        assert RecSysOps(ws).store.rules() == []  # the refused rule stored nothing
    assert "rule 1: pin 5 on related" in cli.ok("block", "5", "--canvas", "related",
                                                 "--action", "pin").stdout


def test_cli_hotfixes_and_canary_refuse_bad_input_in_one_line(tmp_path: Path) -> None:
    cli = Cli(tmp_path / "home", f"sqlite:///{tmp_path / 'db.sqlite'}", ("ops",))
    assert "unknown canvas 'nope'" in cli.fails("switch", "nope")
    assert "in the future" in cli.fails("switch", "related", "--expires-in", "-1")
    assert "unknown fallback environment" in cli.fails("switch", "related", "--to", "moon")
    assert "no active switch 4" in cli.fails("unswitch", "4")
    assert "nothing chosen" in cli.fails("invalidate")
    assert "no invalidation 2" in cli.fails("restore-nearline", "2")
    assert "no model" in cli.fails("canary", "start", "2")
    assert "no canary is running" in cli.fails("canary", "stop")
    assert cli.json("switches") == [] and cli.json("canary", "list") == []
    made = cli.ok("switch", "category", "--to", "nearline-only", "--expires-in", "600")
    assert "switch 1: category served from nearline-only" in made.stdout
    [switch] = cli.json("switches")
    assert switch["canvas"] == "category" and switch["expires_at"] > switch["created_at"]
    assert "switch 1 ended" in cli.ok("unswitch", "1").stdout


def test_api_reads_writes_and_404s(tmp_path: Path) -> None:
    settings = Settings.load(home=tmp_path, database_url=f"sqlite:///{tmp_path / 'g.db'}",
                             api_token=TOKEN)
    with Workspace.open(settings) as ws, TestClient(create_app(settings, ws.graph)) as c:
        assert c.get("/api/v1/ops/monitors").json() == {"monitors": []}
        assert c.get("/api/v1/ops/checks", params={"monitor": "rows"}).status_code == 404
        ops = RecSysOps(ws)
        watched = ws.graph.add("rg://dataset/sim/ratings", author="t").uri
        rows = ops.add_monitor("rows", "dataset", [watched], "data")
        ops.store.add_checks([CheckRow(rows.uri, 10.0, "rows", 100.0, 0.1, True, 1),
                              CheckRow(rows.uri, 20.0, "rows", 40.0, -6.0, False, 2)])
        series = c.get("/api/v1/ops/checks", params={"monitor": "rows"}).json()["checks"]
        assert [(r["at"], r["value"], r["passed"]) for r in series] == [
            (20.0, 40.0, False), (10.0, 100.0, True)]  # newest first
        missing = c.get("/api/v1/ops/replay/nope")
        assert missing.status_code == 404 and missing.json()["error"] == "NotFound"
        assert c.get("/api/v1/ops/incidents/inc-3").status_code == 404
        assert c.get("/api/v1/ops/explain/nope").status_code == 404
        assert c.get("/api/v1/ops/explain/nope?top=0").status_code == 422
        assert c.post("/api/v1/ops/shadow", json={"version": 2}).status_code == 401
        assert c.post("/api/v1/ops/shadow", headers=AUTH,
                      json={"version": 2}).status_code == 404  # no model registered
        rule = {"item": "7", "canvas": "category", "action": "block", "who": "ana"}
        assert c.post("/api/v1/ops/rules", json=rule).status_code == 401
        bad = c.post("/api/v1/ops/rules", headers=AUTH, json={**rule, "action": "bury"})
        assert bad.status_code == 422 and "block, pin, boost" in bad.json()["fix"]
        made = c.post("/api/v1/ops/rules", headers=AUTH, json=rule)
        assert made.status_code == 201 and made.json()["action"] == "block"
        gone = c.delete(f"/api/v1/ops/rules/{made.json()['id']}?who=ana", headers=AUTH)
        assert gone.json() == {"removed": made.json()["id"]}
        again = c.delete(f"/api/v1/ops/rules/{made.json()['id']}?who=ana", headers=AUTH)
        assert again.status_code == 404
        assert c.post("/api/v1/ops/rollback", headers=AUTH,
                      json={"who": "ana"}).status_code == 404  # no model registered
        assert "/api/v1/ops/replay/{request_id}" in c.get("/openapi.json").json()["paths"]


def test_the_checks_run_as_a_flow_on_the_paved_road(tmp_path: Path) -> None:
    from reelgraph.flows import Runner
    from reelgraph.ops.schedule import checks

    assert {t.kind for t in checks.triggers} == {"schedule", "dataset"}
    settings = Settings.load(home=str(tmp_path / "home"), database_url="")
    with Workspace.open(settings) as ws:
        run = Runner(ws).run(checks)
        assert run.status == "succeeded", run.error
        assert ws.load(run.id, "run_checks") == []  # no monitor learned yet


def test_impact_and_lineage_answers_show_open_incidents(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    settings = Settings.load(home=str(tmp_path / "home"), database_url=url, api_token=TOKEN)
    with Workspace.open(settings) as ws:
        with ws.graph.batch(author="test") as b:
            b.add("rg://dataset/sim/ratings", owner="data")
            b.add("rg://model/sim/ranker", owner="team")
            b.link("rg://model/sim/ranker", "trained_on", "rg://dataset/sim/ratings")
        incident = RecSysOps(ws).incidents.open_or_join(
            "rg://dataset/sim/ratings", 100.0, 3600.0, "ratings: rows", "critical", "data",
            {"signals": ["rows"]})
        with TestClient(create_app(settings, ws.graph)) as c:
            impact = c.get("/api/v1/graph/impact",
                           params={"uri": "rg://dataset/sim/ratings"}).json()
            assert [i["uri"] for i in impact["incidents"]] == [incident.uri]
            lineage = c.get("/api/v1/graph/lineage",
                            params={"uri": "rg://model/sim/ranker"}).json()
            assert [i["status"] for i in lineage["incidents"]] == ["open"]
    cli = Cli(tmp_path / "home", url, ("graph",))
    assert cli.json("impact", "rg://dataset/sim/ratings")["incidents"][0]["uri"] == \
        incident.uri
    assert "open incident" in cli.ok("lineage", "rg://model/sim/ranker").stdout


def test_resolving_walks_the_review_and_can_add_a_monitor(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    settings = Settings.load(home=str(tmp_path / "home"), database_url=url, api_token=TOKEN)
    with Workspace.open(settings) as ws:
        ws.graph.add("rg://dataset/sim/ratings", author="test", owner="data")
        ops = RecSysOps(ws)
        first = ops.incidents.open_or_join("rg://dataset/sim/ratings", 100.0, 60.0, "rows",
                                           "critical", "data", {})
        second = ops.incidents.open_or_join("rg://dataset/sim/ratings", 900.0, 60.0,
                                            "rows again", "warning", "data", {})
        assert first.uri != second.uri
        with TestClient(create_app(settings, ws.graph)) as c:
            questions = c.get("/api/v1/ops/review").json()["questions"]
            answers = dict.fromkeys(questions, "yes")
            path = f"/api/v1/ops/incidents/{first.uri.rsplit('/', 1)[-1]}/resolve"
            bad: dict[str, Any] = {"who": "ana", "answers": answers,
                   "add_monitor": {"name": "rows", "kind": "dataset", "owner": "data",
                                   "watches": ["rg://dataset/sim/nowhere"]}}
            refused = c.post(path, headers=AUTH, json=bad)
            assert refused.status_code == 404
            assert ops.incidents.get(first.uri).status == "open"  # nothing changed
            assert ops.monitors() == []
            good = {**bad, "add_monitor": {**bad["add_monitor"],
                                           "watches": ["rg://dataset/sim/ratings"]}}
            done = c.post(path, headers=AUTH, json=good)
            assert done.status_code == 200 and done.json()["status"] == "resolved"
            assert done.json()["timeline"][-1]["detail"]["added_monitor"].endswith("/rows")
            assert c.post(path, headers=AUTH, json=good).status_code == 409
    cli = Cli(tmp_path / "home", url, ("ops",))
    name = second.uri.rsplit("/", 1)[-1]
    assert "lacks answers" in cli.fails("resolve", name, "--answer", " ", "--answer", "a",
                                        "--answer", "b", "--answer", "c")
    out = cli.ok("resolve", name, "--answer", "no", "--answer", "yes", "--answer", "yes",
                 "--answer", "yes", "--who", "oncall").stdout
    assert "resolved" in out
