"""The canvas-agnostic API: answers, cold start, errors that name the fix, save and load."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from reelgraph.artifacts import ArtifactStore
from reelgraph.core.errors import InvalidInput, NotFound
from reelgraph.recsys import Recommendations, UnifiedRecommender
from reelgraph.recsys.experiment import Fitted, Prepared

TOY_STORY = "1"


@pytest.fixture
def recommender(fitted: Fitted) -> UnifiedRecommender:
    return fitted.recommender


def _known_user(prepared: Prepared) -> str:
    tasks = prepared.tasks
    return tasks.dataset.user_ids[int(tasks.known_users.nonzero()[0][0])]


def test_every_canvas_answers(recommender: UnifiedRecommender, prepared: Prepared) -> None:
    user = _known_user(prepared)
    answers = [
        recommender.recommend("related", item=TOY_STORY, k=5),
        recommender.recommend("category", user=user, category="Comedy", k=5),
        recommender.recommend("search", query="toy stor", user=user, k=5),
        recommender.recommend("notifications", user=user, k=5),
    ]
    for answer in answers:
        assert isinstance(answer, Recommendations)
        assert len(answer.items) == 5 and not answer.cold_start
        scores = [s for _, s in answer.items]
        assert scores == sorted(scores, reverse=True)
        assert answer.model_version == "unregistered"
    related, category, _, notifications = answers
    assert TOY_STORY not in dict(related.items)
    catalog, vocabulary = prepared.tasks.dataset.catalog, recommender.vocabulary
    comedy = catalog.category_names.index("Comedy")
    for item, _ in category.items:
        assert catalog.category_matrix[comedy, vocabulary.item_index[item]]
    timeline = recommender.timeline
    dense = vocabulary.user_index[user]
    seen = set(timeline.items[timeline.offsets[dense]:timeline.offsets[dense + 1]].tolist())
    assert not {vocabulary.item_index[i] for i, _ in notifications.items} & seen
    assert answers[2].to_dict()["items"][0].keys() == {"item", "score"}


def test_unknown_and_absent_users_get_a_flagged_cold_start(
        recommender: UnifiedRecommender) -> None:
    for canvas, extra in (("notifications", {}), ("category", {"category": "Drama"}),
                          ("search", {"query": "star wars"})):
        answer = recommender.recommend(canvas, user="never-seen-user", k=3, **extra)  # type: ignore[arg-type]
        assert answer.cold_start and len(answer.items) == 3
    assert recommender.recommend("search", query="star wars").cold_start  # no user at all
    assert not recommender.recommend("related", item=TOY_STORY).cold_start  # no user needed


@pytest.mark.parametrize(("canvas", "kwargs", "error", "words"), [
    ("trending", {}, InvalidInput, ["unknown canvas", "related, category, search"]),
    ("related", {}, InvalidInput, ["needs a item"]),
    ("category", {"user": "1"}, InvalidInput, ["needs a category"]),
    ("search", {}, InvalidInput, ["needs a query"]),
    ("search", {"query": "   "}, InvalidInput, ["query is empty"]),
    ("notifications", {}, InvalidInput, ["needs a user"]),
    ("related", {"item": TOY_STORY, "k": 0}, InvalidInput, ["k=0", "1 to 100"]),
    ("related", {"item": TOY_STORY, "k": 101}, InvalidInput, ["out of range"]),
    ("related", {"item": TOY_STORY, "k": True}, InvalidInput, ["out of range"]),
    ("related", {"item": "no-such-item"}, NotFound, ["not in the model's catalog"]),
    ("category", {"category": "Cartoons"}, InvalidInput, ["unknown category", "Comedy"]),
    ("notifications", {"user": "1", "context": {"weather": 1}}, InvalidInput,
     ["unknown context", "time"]),
    ("notifications", {"user": "1", "context": {"time": "noon"}}, InvalidInput,
     ["not a number"]),
])
def test_bad_requests_name_the_problem_and_the_fix(
        recommender: UnifiedRecommender, canvas: str, kwargs: dict[str, Any],
        error: type[Exception], words: list[str]) -> None:
    with pytest.raises(error) as caught:
        recommender.recommend(canvas, **kwargs)
    message = str(caught.value)
    assert all(word in message for word in words), message
    assert "Fix:" in message


def test_context_time_changes_what_notifications_know(
        recommender: UnifiedRecommender, prepared: Prepared) -> None:
    user = _known_user(prepared)
    early = recommender.recommend("notifications", user=user, k=10,
                                  context={"time": int(prepared.tasks.split.cutoff)})
    late = recommender.recommend("notifications", user=user, k=10)
    assert early.items != late.items


def test_save_and_load_through_the_artifact_store(recommender: UnifiedRecommender,
                                                  tmp_path: Path) -> None:
    store = ArtifactStore(tmp_path / "artifacts")
    ref = recommender.save(store)
    loaded = UnifiedRecommender.load(store, ref, model_version="test@1")
    for canvas, kwargs in (("search", {"query": "matrx"}), ("related", {"item": TOY_STORY})):
        before = recommender.recommend(canvas, **kwargs)  # type: ignore[arg-type]
        after = loaded.recommend(canvas, **kwargs)  # type: ignore[arg-type]
        assert [i for i, _ in after.items] == [i for i, _ in before.items]
        assert after.model_version == "test@1"
    with pytest.raises(InvalidInput, match="not a unified recommender"):
        UnifiedRecommender.from_bundle({"format": "something else"})
