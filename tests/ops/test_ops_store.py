"""The ops tables and incidents on each metadata back-end: SQLite always, PostgreSQL when a
server answers (its own database per test; a clear skip reason otherwise)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from reelgraph.core import Settings
from reelgraph.flows import Workspace
from reelgraph.ops import open_incidents
from reelgraph.ops.incidents import MITIGATED, RESOLVED, Incidents
from reelgraph.ops.store import Alert, CheckRow, OpsStore


@pytest.fixture
def workspace(graph_url: str, tmp_path: Path) -> Iterator[Workspace]:
    with Workspace.open(Settings.load(home=str(tmp_path / "home"),
                                      database_url=graph_url)) as ws:
        yield ws


def test_checks_alerts_events_and_rules_round_trip(workspace: Workspace) -> None:
    store = OpsStore(workspace.runs.engine)
    store.add_checks([CheckRow("m", 10.0, "hit_rate", 0.3, 0.1, True, 4),
                      CheckRow("m", 10.0, "error_rate", 0.0, 0.0, True, 4),
                      CheckRow("m", 20.0, "hit_rate", 0.01, -9.0, False, 7),
                      CheckRow("m", 20.0, "error_rate", None, None, True, 7)])
    assert [(r.at, r.signal) for r in store.checks("m", "hit_rate")] == [(20.0, "hit_rate"),
                                                                         (10.0, "hit_rate")]
    assert store.checks("m", "hit_rate")[0].passed is False
    assert store.checks("m", "error_rate")[0].value is None
    passing = store.last_passing("m", 25.0)
    assert passing is not None and (passing.at, passing.change_id) == (10.0, 4)
    assert store.change_at(15.0) == 4 and store.change_at(5.0) == 0
    first = store.add_alert(Alert(0, "m", "rg://model/a/b", "team", 20.0, "hit_rate", 0.01,
                                  -9.0, "critical", "hit_rate fell", "inc-1", None))
    second = store.add_alert(Alert(0, "m", "rg://model/a/b", "other", 21.0, "mrr", None,
                                   None, "warning", "mrr", None, "200"))
    assert second > first
    assert [a.id for a in store.alerts()] == [second, first]
    assert [a.signal for a in store.alerts(owner="team")] == ["hit_rate"]
    assert [a.id for a in store.alerts(incident="inc-1")] == [first]
    store.add_event("inc-1", 20.0, "opened", "ops", {"signals": ["hit_rate"], "z": -9.0})
    store.add_event("inc-1", 21.0, "rollback", "oncall", {"to": 1})
    assert [(e.kind, e.detail) for e in store.events("inc-1")] == [
        ("opened", {"signals": ["hit_rate"], "z": -9.0}), ("rollback", {"to": 1})]
    rule = store.add_rule("*", "42", "block", 1.0, 30.0, 90.0, "oncall", "inc-1")
    assert rule.active(60.0) and not rule.active(90.0)
    assert store.remove_rule(rule.id, 40.0) and not store.remove_rule(rule.id, 41.0)
    assert store.rules()[0].removed_at == 40.0


def test_incidents_join_on_lineage_and_show_on_the_path(workspace: Workspace) -> None:
    graph = workspace.graph
    with graph.batch(author="test") as b:
        b.add("rg://dataset/sim/ratings", owner="data")
        b.add("rg://model/sim/ranker", owner="team")
        b.add("rg://dataset/sim/other", owner="data")
        b.link("rg://model/sim/ranker", "trained_on", "rg://dataset/sim/ratings")
    incidents = Incidents(graph, OpsStore(workspace.runs.engine), "sim")
    opened = incidents.open_or_join("rg://dataset/sim/ratings", 100.0, 3600.0, "rows fell",
                                    "critical", "data", {"signals": ["rows"]})
    joined = incidents.open_or_join("rg://model/sim/ranker", 200.0, 3600.0, "hit rate",
                                    "warning", "team", {"signals": ["hit_rate"]})
    assert joined.uri == opened.uri  # the model's alert joins its dataset's incident
    assert [i.uri for i in open_incidents(graph, {"rg://model/sim/ranker"})] == [opened.uri]
    assert open_incidents(graph, {"rg://dataset/sim/other"}) == []
    incidents.update(opened.uri, 300.0, "oncall", "rollback", {}, status=MITIGATED)
    assert [i.status for i in open_incidents(graph, {"rg://model/sim/ranker"})] == [MITIGATED]
    incidents.update(opened.uri, 400.0, "oncall", "resolved", {}, status=RESOLVED)
    assert open_incidents(graph, {"rg://model/sim/ranker"}) == []
    assert [e.kind for e in incidents.timeline(opened.uri)][-1] == "resolved"


def test_a_monitor_node_declared_outside_ops_is_listed_by_the_graph_not_checked(
        workspace: Workspace) -> None:
    """A catalog's documentation monitor (no check kind) neither breaks the ops listing nor
    runs: asking ops for it names the fix."""
    from reelgraph.core import InvalidInput
    from reelgraph.ops.monitors import Monitor, list_monitors, load_monitor, save_monitor

    graph = workspace.graph
    graph.add("rg://monitor/catalog/drift-notes", author="t", owner="team",
              description="documented elsewhere")
    save_monitor(graph, Monitor("rg://monitor/ops/rows", "dataset", (), "data", {}))
    assert [m.uri for m in list_monitors(graph)] == ["rg://monitor/ops/rows"]
    with pytest.raises(InvalidInput, match="without a check kind"):
        load_monitor(graph, "rg://monitor/catalog/drift-notes")
