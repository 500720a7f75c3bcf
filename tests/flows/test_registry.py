"""The model registry on SQLite and PostgreSQL, with versions registered from real flow runs:
numbering under concurrency, stages and their audit, gates with their numbers, consumers in
impact analysis, loading the production version, and bad input that stores nothing."""

from __future__ import annotations

import re
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from sqlalchemy import text

from reelgraph.core.errors import Conflict, InvalidInput, NotFound
from reelgraph.flows import Runner, RunRecord, Workspace, load_flow
from reelgraph.flows.lineage import run_key
from reelgraph.flows.registry import (
    InvalidTransition,
    MetricAtLeast,
    MetricAtMost,
    MetricNotWorse,
    ModelRegistry,
    PromotionRefused,
)

FLOW_FILE = Path(__file__).with_name("registry_flow.py")
NAME = "personalization/popularity"
MODEL = "rg://model/personalization/popularity"
CONSUMER = "messaging/notifications-service"


@dataclass
class Trained:
    ws: Workspace
    registry: ModelRegistry
    run: RunRecord
    data: ModuleType  # registry_flow, as load_flow imported it

    def register(self, **metrics: float) -> int:
        return self.registry.register(NAME, self.run.id, "model", metrics=metrics,
                                      signature={"inputs": {"user": "int"},
                                                 "outputs": {"items": "list[str]"}},
                                      description="popularity", owner="perso-team")

    def ship(self, version: int, who: str = "ana") -> None:
        self.registry.promote(NAME, version, "staging", who, "offline eval")
        self.registry.promote(NAME, version, "production", who, "A/B test won")

    def stage(self, version: int) -> str:
        return self.registry.version(NAME, version).stage


@pytest.fixture
def trained(workspace: Workspace) -> Trained:
    flow = load_flow(FLOW_FILE, "popularity")
    data = sys.modules[flow.steps["ratings"].fn.__module__]
    data.seed(workspace.graph)
    run = Runner(workspace).run(flow)
    assert run.status == "succeeded"
    return Trained(workspace, ModelRegistry(workspace), run, data)


def test_register_stores_the_version_and_its_lineage(trained: Trained) -> None:
    version = trained.register(hit_rate=trained.ws.load(trained.run.id, "score")["hit_rate"])
    assert version == 1
    record = trained.registry.version(NAME, 1)
    assert (record.stage, record.run_id, record.step) == ("none", trained.run.id, "model")
    assert record.artifact == trained.ws.runs.artifact(trained.run.id, "model")
    assert record.metrics == {"hit_rate": 0.25}

    graph = trained.ws.graph
    node = graph.show(f"{MODEL}@1")
    assert node.properties["stage"] == "none"
    assert node.properties["artifact"]["digest"] == record.artifact.digest
    assert node.properties["signature"]["outputs"] == {"items": "list[str]"}
    edges = {(e.kind, other.uri) for d, e, other in graph.edges(f"{MODEL}@1") if d == "out"}
    run_uri = run_key("personalization", "popularity", trained.run.id).uri
    assert edges == {("version_of", MODEL), ("produced_by", run_uri),
                     ("trained_on", trained.data.DATASET), ("trained_on", trained.data.FEATURE)}
    upstream = {n.uri for n in graph.lineage(f"{MODEL}@1").nodes.values()}
    assert {trained.data.DATASET, run_uri, "rg://job/personalization/popularity"} <= upstream


def test_concurrent_registrations_get_distinct_consecutive_versions(trained: Trained) -> None:
    got: list[int] = []
    errors: list[BaseException] = []

    def register() -> None:
        try:
            got.append(trained.register(ndcg=0.2))
        except BaseException as exc:  # a thread's error must fail the test, not vanish
            errors.append(exc)

    threads = [threading.Thread(target=register) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted(got) == [1, 2, 3, 4, 5, 6]
    assert [v.version for v in trained.registry.model(NAME).versions] == [1, 2, 3, 4, 5, 6]
    for v in got:
        assert trained.ws.graph.get(f"{MODEL}@{v}") is not None


def test_gates_refuse_a_worse_model_with_numbers_and_promotion_archives(
        trained: Trained) -> None:
    v1 = trained.register(**{"ndcg@10": 0.25, "latency_ms": 12})
    trained.registry.declare_gate(NAME, MetricNotWorse("ndcg@10", margin=0.01), who="lead")
    trained.registry.declare_gate(NAME, MetricAtMost("latency_ms", 20), who="lead")
    trained.ship(v1)  # nothing in production yet: MetricNotWorse passes
    assert trained.stage(v1) == "production"

    v2 = trained.register(**{"ndcg@10": 0.212, "latency_ms": 25})
    trained.registry.promote(NAME, v2, "staging", "bob")
    with pytest.raises(PromotionRefused) as refused:
        trained.registry.promote(NAME, v2, "production", "bob", "looks fine to me")
    message = str(refused.value)
    assert "ndcg@10 = 0.212 is worse than production v1's 0.25 by 0.038" in message
    assert "more than the margin 0.01" in message
    assert "latency_ms = 25 is above the maximum 20" in message
    assert refused.value.status_code == 409
    assert (trained.stage(v1), trained.stage(v2)) == ("production", "staging")
    refusal = trained.registry.history(NAME, v2)[-1]
    assert (refusal.outcome, refusal.who, refusal.why) == ("refused", "bob", "looks fine to me")
    assert [(g.gate, g.passed) for g in refusal.gates] == [
        ("metric_at_most:latency_ms", False), ("metric_not_worse:ndcg@10", False)]

    # within the margin passes, and the version in production before is archived
    v3 = trained.register(**{"ndcg@10": 0.245, "latency_ms": 10})
    trained.ship(v3, who="carol")
    assert [trained.stage(v) for v in (v1, v2, v3)] == ["archived", "staging", "production"]
    moves = [(t.version, t.from_stage, t.to_stage, t.outcome, t.who)
             for t in trained.registry.history(NAME)]
    assert moves == [
        (1, "none", "staging", "applied", "ana"),
        (1, "staging", "production", "applied", "ana"),
        (2, "none", "staging", "applied", "bob"),
        (2, "staging", "production", "refused", "bob"),
        (3, "none", "staging", "applied", "carol"),
        (1, "production", "archived", "applied", "carol"),
        (3, "staging", "production", "applied", "carol"),
    ]
    passed = trained.registry.history(NAME, v3)[-1].gates
    assert {g.gate: g.passed for g in passed} == {"metric_not_worse:ndcg@10": True,
                                                  "metric_at_most:latency_ms": True}
    assert "within 0.01 of production v1's 0.25" in " ".join(g.detail for g in passed)
    graph = trained.ws.graph
    assert graph.show(f"{MODEL}@1").properties["stage"] == "archived"
    assert graph.show(f"{MODEL}@3").properties["stage"] == "production"
    assert graph.show(MODEL).properties["production"] == 3


def test_staging_gates_and_lower_is_better(trained: Trained) -> None:
    v1 = trained.register(rmse=0.9)
    trained.registry.declare_gate(NAME, MetricAtLeast("coverage", 0.5), stage="staging")
    trained.registry.declare_gate(NAME, MetricNotWorse("rmse", 0.05, higher_is_better=False))
    assert [(g.stage, g.gate.name) for g in trained.registry.gates(NAME)] == [
        ("production", "metric_not_worse:rmse"), ("staging", "metric_at_least:coverage")]
    with pytest.raises(InvalidInput, match="v1 has no metric 'coverage'"):
        trained.registry.promote(NAME, v1, "staging", "ana")
    trained.registry.remove_gate(NAME, "metric_at_least:coverage", stage="staging")
    trained.ship(v1)
    v2 = trained.register(rmse=1.0)
    trained.registry.promote(NAME, v2, "staging", "ana")
    with pytest.raises(PromotionRefused,
                       match=re.escape("rmse = 1 is worse than production v1's 0.9 by 0.1")):
        trained.registry.promote(NAME, v2, "production", "ana")


def test_stage_moves_follow_the_documented_transitions(trained: Trained) -> None:
    v1 = trained.register()
    with pytest.raises(InvalidTransition, match="cannot move from none to production"):
        trained.registry.promote(NAME, v1, "production", "ana")
    trained.registry.promote(NAME, v1, "staging", "ana")
    trained.registry.promote(NAME, v1, "none", "ana", "not ready")  # withdrawn from staging
    trained.ship(v1)
    with pytest.raises(InvalidTransition, match="already in production"):
        trained.registry.promote(NAME, v1, "production", "ana")
    with pytest.raises(InvalidTransition, match="may move to archived"):
        trained.registry.promote(NAME, v1, "staging", "ana")
    trained.registry.promote(NAME, v1, "archived", "ana", "retired")
    trained.registry.promote(NAME, v1, "staging", "ana", "rollback candidate")
    assert trained.stage(v1) == "staging"


def test_promote_to_production_walks_the_allowed_moves(trained: Trained) -> None:
    v1, v2 = trained.register(), trained.register()
    moves = trained.registry.promote_to_production(NAME, v1, "ana", "ship it")
    assert [(m.from_stage, m.to_stage) for m in moves] == [
        ("none", "staging"), ("staging", "production")]
    assert trained.registry.promote_to_production(NAME, v1, "ana") == []  # already there
    trained.registry.promote(NAME, v2, "staging", "ana")
    moves = trained.registry.promote_to_production(NAME, v2, "ana", "better")
    assert [m.to_stage for m in moves] == ["production"]
    assert trained.stage(v1) == "archived"
    moves = trained.registry.promote_to_production(NAME, v1, "ana", "roll back")
    assert [(m.from_stage, m.to_stage) for m in moves] == [
        ("archived", "staging"), ("staging", "production")]


def test_stage_moves_keep_what_others_stored_on_the_version_node(trained: Trained) -> None:
    """e.g. the recommender's task affinity report, stored after registration."""
    version = trained.register(ndcg=0.1)
    uri = trained.registry.version(NAME, version).uri
    node = trained.ws.graph.get(uri)
    assert node is not None
    trained.ws.graph.add(uri, author="affinity", owner=node.owner,
                         properties={**node.properties, "task_affinity": {"verdicts": {}}})
    trained.ship(version)
    moved = trained.ws.graph.get(uri)
    assert moved is not None
    assert moved.properties["stage"] == "production"
    assert moved.properties["task_affinity"] == {"verdicts": {}}


def test_consumers_appear_in_impact_of_upstream_nodes(trained: Trained) -> None:
    graph = trained.ws.graph
    v1 = trained.register(ndcg=0.2)
    consumer = trained.registry.subscribe(NAME, CONSUMER, owner="messaging-team", who="dan")
    assert trained.registry.subscribe(NAME, CONSUMER) == consumer  # repeating is a no-op
    assert [c.consumer for c in trained.registry.consumers(NAME)] == [CONSUMER]
    consumer_uri = f"rg://consumer/{CONSUMER}"
    assert graph.show(consumer_uri).owner == "messaging-team"
    # the model node reaches its consumers at once; upstream data only via production
    assert [n.uri for n in graph.impact(MODEL).of_kind("consumer")] == [consumer_uri]
    assert graph.impact(trained.data.DATASET).of_kind("consumer") == []

    trained.ship(v1)
    affected = graph.impact(trained.data.DATASET).of_kind("consumer")
    assert [n.uri for n in affected] == [consumer_uri]
    assert [n.uri for n in graph.impact(trained.data.FEATURE).of_kind("consumer")] == [
        consumer_uri]

    v2 = trained.register(ndcg=0.3)
    trained.ship(v2)
    kinds = {e.kind for d, e, _ in graph.edges(f"{MODEL}@1") if d == "out"}
    assert "consumed_by" not in kinds  # the edge moved with production
    assert [n.uri for n in graph.impact(f"{MODEL}@2").of_kind("consumer")] == [consumer_uri]
    assert [n.uri for n in graph.impact(trained.data.DATASET).of_kind("consumer")] == [
        consumer_uri]

    trained.registry.unsubscribe(NAME, CONSUMER)
    assert trained.registry.consumers(NAME) == []
    assert graph.impact(trained.data.DATASET).of_kind("consumer") == []


def test_load_the_production_version_in_one_call(trained: Trained) -> None:
    with pytest.raises(NotFound, match="no model named 'personalization/popularity'"):
        trained.registry.load(NAME)
    v1 = trained.register(ndcg=0.2)
    with pytest.raises(NotFound, match="has no version in production"):
        trained.registry.load(NAME)
    trained.ship(v1)
    expected = trained.ws.load(trained.run.id, "model")
    assert trained.registry.load(NAME) == expected
    assert trained.registry.load(NAME, stage="production")["top"] == expected["top"]
    assert trained.registry.load(NAME, version=v1) == expected
    # a second run with other parameters: loading follows production
    flow = load_flow(FLOW_FILE, "popularity")
    run = Runner(trained.ws).run(flow, {"top_k": 1})
    v2 = trained.registry.register(NAME, run.id, metrics={"ndcg": 0.3})
    trained.ship(v2)
    assert trained.registry.load(NAME)["top"] == expected["top"][:1]
    assert trained.registry.load(NAME, stage="archived") == expected


def _snapshot(ws: Workspace) -> dict[str, Any]:
    with ws.runs.engine.connect() as conn:
        counts = {t: conn.execute(text(f"SELECT COUNT(*) FROM {t}")).scalar() for t in
                  ("rg_model", "rg_model_version", "rg_model_transition", "rg_model_gate",
                   "rg_model_consumer")}
        stages = conn.execute(text("SELECT model, version, stage FROM rg_model_version "
                                   "ORDER BY model, version")).all()
    changes = ws.graph.changes(0, limit=100_000)
    return {"counts": counts, "stages": stages, "graph": changes[-1][0] if changes else 0}


def test_bad_input_is_refused_clearly_and_stores_nothing(trained: Trained) -> None:
    v1 = trained.register(ndcg=0.2)
    trained.registry.declare_gate(NAME, MetricNotWorse("recall@20"))
    trained.registry.promote(NAME, v1, "staging", "ana")
    broken = load_flow(FLOW_FILE, "broken")
    failed = Runner(trained.ws).run(broken)
    assert failed.status == "failed"
    before = _snapshot(trained.ws)

    reg = trained.registry
    cases: list[tuple[type[Exception], str, Any]] = [
        (Conflict, "only a run that succeeded", lambda: reg.register(NAME, failed.id, "boom")),
        (NotFound, "no run with id", lambda: reg.register(NAME, "nope", "model")),
        (NotFound, "has no task 'fit'", lambda: reg.register(NAME, trained.run.id, "fit")),
        (InvalidInput, "not NAMESPACE/NAME", lambda: reg.register("popularity", trained.run.id)),
        (InvalidInput, "not a named finite number",
         lambda: reg.register(NAME, trained.run.id, metrics={"ndcg": float("nan")})),
        (InvalidInput, "signature is not plain JSON",
         lambda: reg.register(NAME, trained.run.id, signature={"f": object()})),
        (NotFound, "no model named 'x/y'", lambda: reg.promote("x/y", 1, "staging", "ana")),
        (NotFound, "has no version 9", lambda: reg.promote(NAME, 9, "staging", "ana")),
        (InvalidInput, "unknown stage 'prod'", lambda: reg.promote(NAME, v1, "prod", "ana")),
        (InvalidTransition, "is already in staging",
         lambda: reg.promote(NAME, v1, "staging", "ana")),
        (InvalidInput, "v1 has no metric 'recall@20'",
         lambda: reg.promote(NAME, v1, "production", "ana")),
        (InvalidInput, "needs who", lambda: reg.promote(NAME, v1, "production", "")),
        (InvalidInput, "margin -1.0 is negative", lambda: MetricNotWorse("ndcg", -1)),
        (InvalidInput, "unknown stage 'archived'",
         lambda: reg.declare_gate(NAME, MetricAtLeast("ndcg", 0.1), stage="archived")),
        (NotFound, "no model named 'x/y'", lambda: reg.declare_gate("x/y", MetricAtLeast("n", 1))),
        (NotFound, "no gate", lambda: reg.remove_gate(NAME, "metric_at_least:ndcg")),
        (InvalidInput, "consumer name 'svc'", lambda: reg.subscribe(NAME, "svc")),
        (NotFound, "is not subscribed", lambda: reg.unsubscribe(NAME, CONSUMER)),
    ]
    for error, words, call in cases:
        with pytest.raises(error) as caught:
            call()
        assert words in str(caught.value), (words, str(caught.value))
        assert "Fix:" in str(caught.value)
    assert _snapshot(trained.ws) == before
