"""Explain: Shapley values of a request's inputs per recommended item (Captum), checked
against what the model does when an input is really taken away."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import Served
from reelgraph.core.errors import InvalidInput, NotFound
from reelgraph.ops import explain
from reelgraph.recsys import UnifiedRecommender, canvas
from reelgraph.recsys.recommender import RecommendRequest
from reelgraph.recsys.requests import Requests
from reelgraph.recsys.timeline import Timeline


def without(timeline: Timeline, user: int, item: int) -> Timeline:
    """The user's own timeline with every event of ``item`` removed."""
    start, end = timeline.offsets[user], timeline.offsets[user + 1]
    keep = timeline.items[start:end] != item
    own = Timeline(np.array([0, int(keep.sum())]), timeline.items[start:end][keep],
                   timeline.times[start:end][keep], timeline.origin)
    return own.one_user(0, np.empty(0, np.int32), np.empty(0, np.int64))


def score_without(model: UnifiedRecommender, request: RecommendRequest, user: int,
                  history_item: int, item: int) -> float:
    """The item's score for the same request, from a timeline that lacks the history item
    (the production scorer, not the attribution's code)."""
    timeline = without(model.timeline, user, history_item)
    requests = Requests.build(request.canvas, timeline, request.requests.time,
                              user=np.array([0]))
    return float(model.scorer.on(timeline).scores(requests)[0, item])


def test_removing_the_top_attributed_history_item_lowers_the_score(
        recommenders: tuple[UnifiedRecommender, UnifiedRecommender]) -> None:
    model = recommenders[0]
    lengths = np.diff(model.timeline.offsets)
    users = np.flatnonzero(model.known_users[:len(lengths)] & (lengths >= 5))[:6]
    checked = 0
    for user in users:
        request = model.request("notifications", user=model.vocabulary.user_ids[user], k=3)
        top = model.recommend("notifications", user=model.vocabulary.user_ids[user], k=3)
        items = [i for i, _ in top.items]
        found = model.explain(request, items, samples=24)
        assert found.values.shape == (len(items), len(found.features))
        # efficiency: the values add up to the score minus the all-off score
        np.testing.assert_allclose(found.values.sum(axis=1), found.scores - found.baseline,
                                   rtol=1e-3, atol=1e-3)
        np.testing.assert_allclose(found.scores, [s for _, s in top.items], atol=1e-4)
        history = [j for j, f in enumerate(found.features) if f.startswith("history:")]
        assert history
        for row, item in enumerate(items):
            best = max(history, key=lambda j: found.values[row, j])
            if found.values[row, best] <= 0:
                continue
            history_item = model.vocabulary.item_index[found.features[best].split(":", 1)[1]]
            index = model.vocabulary.item_index[item]
            assert score_without(model, request, user, history_item, index) < \
                found.scores[row]
            checked += 1
    assert checked >= 3


def test_a_logged_answer_is_explained_and_unknown_ids_are_404(served: Served) -> None:
    model = served.recommenders[0]
    users = [u for u, known in zip(model.vocabulary.user_ids, model.known_users,
                                   strict=True) if known]
    for user in users[:3]:
        served.clock.now += 10
        served.service.recommend("category", user=user, k=4, category="Comedy")
    served.log.flush()
    request_id = served.ops.impressions().to_pylist()[0]["request_id"]
    found = explain(served.ops, request_id, top=3).to_dict()
    assert found["request_id"] == request_id and len(found["items"]) == 4
    first = found["items"][0]
    assert 1 <= len(first["contributions"]) <= 3
    assert {c["kind"] for c in first["contributions"]} <= {
        "history", "query", "context", "source", "category", "popularity"}
    assert canvas("category").name == found["canvas"]
    with pytest.raises(NotFound):
        explain(served.ops, "no-such-request")
    with pytest.raises(InvalidInput, match="top"):
        explain(served.ops, request_id, top=0)
