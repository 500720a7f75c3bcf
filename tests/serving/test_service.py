"""The recommendation service on a real registry, online store and graph: environment
selection, nearline freshness and fallbacks, and hot swap without dropped requests."""

from __future__ import annotations

import gc
import threading
import time
import weakref
from dataclasses import replace
from pathlib import Path

import pytest
from serving_samples import register

from reelgraph.core.errors import InvalidInput, NotFound, Unavailable
from reelgraph.features.online import open_online_store
from reelgraph.features.ports import OnlineStore
from reelgraph.flows import Workspace
from reelgraph.flows.registry import ModelRegistry
from reelgraph.recsys import MODEL, UnifiedRecommender
from reelgraph.serving import NEARLINE, ONLINE, RecommendationService, ServingConfig
from reelgraph.serving.deployments import deployment_key

Models = tuple[UnifiedRecommender, UnifiedRecommender]


def served_by(ws: Workspace, online: OnlineStore, config: ServingConfig | None = None
              ) -> RecommendationService:
    service = RecommendationService(ws, config or ServingConfig(), online)
    return service


def known_user(recommender: UnifiedRecommender) -> str:
    return recommender.vocabulary.user_ids[int(recommender.known_users.argmax())]


def test_nothing_deployed_is_a_503_that_says_what_to_do(workspace: Workspace,
                                                       online: OnlineStore) -> None:
    service = served_by(workspace, online)
    assert service.refresh() is None
    with pytest.raises(Unavailable) as raised:
        service.recommend("related", item="1")
    assert raised.value.status_code == 503
    assert "recsys train" in raised.value.fix


def test_online_answers_equal_full_ranking(workspace: Workspace, online: OnlineStore,
                                           recommenders: Models, tmp_path: Path) -> None:
    register(workspace, recommenders[0], tmp_path / "bundles")
    service = served_by(workspace, online)
    assert service.refresh(precompute=False) is not None
    model = service.current.recommender
    item = model.vocabulary.item_ids[0]
    user = known_user(model)
    for canvas, inputs in (("related", {"item": item}),
                           ("search", {"query": "star wars", "user": user}),
                           ("category", {"user": user, "category": "Comedy"}),
                           ("notifications", {"user": user})):
        served = service.recommend(canvas, k=7, **inputs)  # type: ignore[arg-type]
        assert served.environment == ONLINE
        full = model.recommend(canvas, k=7, **inputs)  # type: ignore[arg-type]
        assert [i for i, _ in served.recommendations.items] == [i for i, _ in full.items]
        assert served.recommendations.model_version == f"{MODEL}@1"


def test_nearline_serves_precomputed_answers_while_fresh(
        workspace: Workspace, online: OnlineStore, recommenders: Models,
        tmp_path: Path) -> None:
    register(workspace, recommenders[0], tmp_path / "bundles")
    service = served_by(workspace, online)
    service.refresh(precompute=False)
    model = service.current.recommender
    user = known_user(model)
    before = service.recommend("notifications", user=user, k=5)
    assert before.environment == ONLINE and before.fallback == "not precomputed yet"

    stored = service.precompute()
    assert stored["notifications"] == int(model.known_users.sum())
    assert stored["category"] == stored["notifications"] * len(model.vocabulary.categories)
    assert service.precompute(skip_fresh=True) == {"category": 0, "notifications": 0}
    after = service.recommend("notifications", user=user, k=5)
    assert after.environment == NEARLINE and after.computed_at is not None
    assert [i for i, _ in after.recommendations.items] == [
        i for i, _ in before.recommendations.items]
    row = service.recommend("category", user=user, category="Drama", k=3)
    assert row.environment == NEARLINE
    assert [i for i, _ in row.recommendations.items] == [
        i for i, _ in model.recommend("category", user=user, category="Drama", k=3).items]

    cold = service.recommend("notifications", user="no-such-user", k=5)
    assert cold.environment == ONLINE and cold.recommendations.cold_start
    assert cold.fallback is not None and "cold start" in cold.fallback
    later = service.recommend("notifications", user=user, k=5,
                              context={"time": model.now + 86_400})
    assert later.environment == ONLINE  # precomputed for "now", not for another time

    stale = served_by(workspace, online, ServingConfig(max_age_s=1e-3))
    stale.refresh(precompute=False)
    time.sleep(0.01)
    answer = stale.recommend("notifications", user=user, k=5)
    assert answer.environment == ONLINE and answer.fallback == "the precomputed answer is stale"


def test_batch_hosted_canvases_are_not_served(workspace: Workspace, online: OnlineStore,
                                              recommenders: Models, tmp_path: Path) -> None:
    register(workspace, recommenders[0], tmp_path / "bundles")
    service = served_by(workspace, online,
                        ServingConfig().with_environments(notifications="batch"))
    service.refresh(precompute=False)
    with pytest.raises(InvalidInput) as raised:
        service.recommend("notifications", user="1")
    assert "hosted offline (batch)" in raised.value.problem
    assert service.recommend("related", item=service.current.recommender.vocabulary
                             .item_ids[3]).environment == ONLINE


def test_bad_requests_raise_before_any_scoring(workspace: Workspace, online: OnlineStore,
                                               recommenders: Models, tmp_path: Path) -> None:
    register(workspace, recommenders[0], tmp_path / "bundles")
    service = served_by(workspace, online)
    service.refresh(precompute=False)
    with pytest.raises(InvalidInput, match="unknown canvas"):
        service.recommend("homepage", user="1")
    with pytest.raises(InvalidInput, match="needs a category"):
        service.recommend("category", user="1")
    with pytest.raises(NotFound, match="not in the model's catalog"):
        service.recommend("related", item="no-such-item")


def test_hot_swap_drops_no_request(workspace: Workspace, online: OnlineStore,
                                   recommenders: Models, tmp_path: Path) -> None:
    register(workspace, recommenders[0], tmp_path / "bundles")
    service = served_by(workspace, online)
    service.refresh(precompute=False)
    item = service.current.recommender.vocabulary.item_ids[0]
    seen: list[tuple[bool, str]] = []  # (begun after the swap returned, version that answered)
    errors: list[BaseException] = []
    stop = threading.Event()
    swapped = threading.Event()

    def hammer() -> None:
        while not stop.is_set():
            after = swapped.is_set()
            try:
                seen.append((after, service.recommend("related", item=item, k=5)
                             .recommendations.model_version))
            except BaseException as exc:  # any failure is a dropped request
                errors.append(exc)

    clients = [threading.Thread(target=hammer) for _ in range(3)]
    for client in clients:
        client.start()
    try:
        while len(seen) < 20:
            time.sleep(0.01)
        register(workspace, recommenders[1], tmp_path / "bundles")  # promoted to production
        swap = service.refresh(precompute=False)
        swapped.set()
        assert swap is not None and (swap.previous, swap.version) == (1, 2)
        while sum(after for after, _ in seen) < 20:
            time.sleep(0.01)
    finally:
        stop.set()
        for client in clients:
            client.join()
    assert not errors
    assert seen[0] == (False, f"{MODEL}@1")
    # Every request begun after the swap is answered by the new version; one begun before it
    # may finish after it on either (a busy machine can hold it there for long).
    assert {version for after, version in seen if after} == {f"{MODEL}@2"}
    graph = workspace.graph
    online_deployment = deployment_key(MODEL, "online")
    sources = {node.uri for direction, edge, node in graph.edges(online_deployment)
               if direction == "in" and edge.kind == "deployed_as"}
    assert sources == {f"rg://model/{MODEL}@2"}


def test_the_watcher_swaps_in_a_promotion(workspace: Workspace, online: OnlineStore,
                                          recommenders: Models, tmp_path: Path) -> None:
    register(workspace, recommenders[0], tmp_path / "bundles")
    service = served_by(workspace, online, replace(ServingConfig(), watch_s=0.05))
    service.start()
    try:
        deadline = time.monotonic() + 60
        while service.precomputed_at is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert service.current.version == 1 and service.precomputed_at is not None
        register(workspace, recommenders[1], tmp_path / "bundles")
        while service.current.version != 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert service.current.version == 2
        assert ModelRegistry(workspace).version(MODEL, 1).stage == "archived"
    finally:
        service.close()


def test_nearline_answers_live_in_redis_too(workspace: Workspace, recommenders: Models,
                                            tmp_path: Path, redis_url: str) -> None:
    register(workspace, recommenders[0], tmp_path / "bundles")
    store = open_online_store(redis_url)
    service = served_by(workspace, store, ServingConfig(online_store=redis_url))
    try:
        service.refresh(precompute=False)
        user = known_user(service.current.recommender)
        stored = service.precompute(canvases=["notifications"], users=[user])
        assert stored == {"notifications": 1}
        served = service.recommend("notifications", user=user, k=4)
        assert served.environment == NEARLINE
        online = service.current.recommender.recommend("notifications", user=user, k=4)
        assert [i for i, _ in served.recommendations.items] == [i for i, _ in online.items]
    finally:
        store.close()


def test_a_server_freezes_each_loaded_version_and_lets_the_old_one_go(
        workspace: Workspace, online: OnlineStore, recommenders: Models,
        tmp_path: Path) -> None:
    """The loaded model is moved out of the collector's full passes (no 200 ms stalls on
    requests), an old version swapped out is still freed, and closing unfreezes it all."""
    register(workspace, recommenders[0], tmp_path / "bundles")
    service = RecommendationService(workspace, ServingConfig(), online, settle_heap=True)
    try:
        service.refresh(precompute=False)
        first = weakref.ref(service.current.recommender)
        frozen = gc.get_freeze_count()
        assert frozen > 0
        assert not any(o is first() for o in gc.get_objects(generation=2))
        service.refresh(precompute=False, force=True)  # a redeploy: a new copy is loaded
        assert first() is None  # the swapped-out copy was freed, frozen or not
        user = known_user(service.current.recommender)
        served = service.recommend("notifications", user=user, k=5)
        full = service.current.recommender.recommend("notifications", user=user, k=5)
        assert [i for i, _ in served.recommendations.items] == [i for i, _ in full.items]
    finally:
        service.close()
    assert gc.get_freeze_count() == 0
