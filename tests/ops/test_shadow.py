"""Shadow: a candidate answers replayed logged traffic beside production, is logged as
``shadow`` (never served, never checked), and is judged against production's own noise; a
deliberately worse model fails, and its metrics make a promotion gate refuse it."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from serving_samples import register

from conftest import Served, scrambled
from reelgraph.core.errors import Conflict, InvalidInput
from reelgraph.flows.registry import MetricAtLeast, ModelRegistry
from reelgraph.ops import shadow
from reelgraph.ops.shadow import churn, rbo
from reelgraph.recsys import MODEL


def test_rank_biased_overlap_and_churn() -> None:
    assert rbo(("a", "b", "c"), ("a", "b", "c")) == pytest.approx(1.0)
    assert rbo(("a", "b", "c"), ("x", "y", "z")) == 0.0
    assert rbo(("a", "b", "c"), ("a", "c", "b")) > rbo(("a", "b", "c"), ("c", "b", "a"))
    assert churn(("a", "b", "c", "d"), ("a", "b", "x", "y")) == 0.5


def traffic_with_plays(served: Served, tmp_path: Path) -> str:
    """Requests, then each member plays what production ranked first (the outcomes)."""
    model = served.recommenders[0]
    users = [u for u, known in zip(model.vocabulary.user_ids, model.known_users,
                                   strict=True) if known][:40]
    plays = []
    for user in users:
        served.clock.now += 30
        answer = served.service.recommend("notifications", user=user, k=10)
        plays.append({"user": user, "item": answer.recommendations.items[0][0],
                      "time": served.clock.now + 60})
    served.log.flush()
    folder = served.ws.settings.home / "plays"
    folder.mkdir()
    pq.write_table(pa.Table.from_pylist(plays), folder / f"{int(served.clock.now) + 120}.parquet")
    return "plays"


def test_a_worse_candidate_fails_and_the_gate_refuses_it(served: Served,
                                                         tmp_path: Path) -> None:
    plays = traffic_with_plays(served, tmp_path)
    same = shadow(served.ops, 1, outcomes=plays)
    assert same.passed and same.rbo == pytest.approx(1.0) and same.churn == 0.0
    assert same.rbo_noise == pytest.approx(1.0) and same.hit_rate_delta == 0.0
    assert same.requests == 40 and same.plays == 40
    worse = shadow(served.ops, scrambled(served.recommenders[0]), outcomes=plays)
    assert not worse.passed and worse.hit_rate_delta is not None
    assert worse.hit_rate_ci is not None and worse.hit_rate_ci[1] < 0
    assert worse.rbo < 0.5 and "hit rate lower" in worse.reasons[0]
    logged = served.ops.impressions().to_pylist()
    assert sum(r["environment"] == "shadow" for r in logged) == 80  # logged, not served
    assert [m.uri for m in served.ops.monitors()] == []
    registry = ModelRegistry(served.ws)
    registry.declare_gate(MODEL, MetricAtLeast("shadow_passed", 1.0), who="test")
    number = register(served.ws, scrambled(served.recommenders[0]), served.bundles,
                      promote=False, metrics=worse.metrics)
    registry.promote(MODEL, number, "staging", who="test")
    with pytest.raises(Conflict, match="shadow_passed"):
        registry.promote(MODEL, number, "production", who="test")
    assert registry.version(MODEL, stage="production").version == 1
    with pytest.raises(InvalidInput, match="sample"):
        shadow(served.ops, 1, sample=0)
