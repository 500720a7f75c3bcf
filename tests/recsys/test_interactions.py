"""The interaction log, and answers that reflect interactions newer than the model."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from reelgraph.core import Database
from reelgraph.core.errors import InvalidInput
from reelgraph.recsys import InteractionLog
from reelgraph.recsys.experiment import Fitted


@pytest.fixture
def log(tmp_path: Path) -> Iterator[InteractionLog]:
    store = InteractionLog(Database.open(f"sqlite:///{tmp_path / 'meta.db'}"))
    yield store
    store.close()


def test_append_and_read_back_in_time_order(log: InteractionLog) -> None:
    log.append("42", "7", time=200)
    log.append(42, 8, time=100, event="rating", value=4.5)
    log.append("43", "9", time=150)
    found = log.recent("42")
    assert [(e.item, e.time, e.event, e.value) for e in found] == [
        ("8", 100, "rating", 4.5), ("7", 200, "interaction", None)]
    assert [e.item for e in log.recent("42", since=150)] == ["7"]
    assert [e.item for e in log.recent("42", limit=1)] == ["7"]  # the latest
    assert log.recent("nobody") == []
    assert log.append("44", "1").time > 1_700_000_000  # default: now
    assert log.forget("42") == 2 and log.recent("42") == [] and log.count() == 2


@pytest.mark.parametrize(("fields", "problem"), [
    ({"user": "", "item": "1", "time": 1}, "user"),
    ({"user": "1", "item": None, "time": 1}, "item"),
    ({"user": "1", "item": "1", "time": float("nan")}, "time"),
    ({"user": "1", "item": "1", "time": -5}, "time"),
    ({"user": "1", "item": "1", "time": 1, "value": float("inf")}, "value"),
    ({"user": "1", "item": "1", "time": 1, "event": "x" * 300}, "event"),
])
def test_bad_interactions_are_refused_and_not_logged(log: InteractionLog, fields: dict[str, Any],
                                                     problem: str) -> None:
    with pytest.raises(InvalidInput, match=problem):
        log.append(**fields)
    assert log.count() == 0


def test_a_member_who_just_watched_x_gets_answers_reflecting_x(fitted: Fitted) -> None:
    recommender = fitted.recommender
    user = recommender.vocabulary.user_ids[int(recommender.known_users.argmax())]
    before = recommender.recommend("notifications", user=user, k=10)
    watched = before.items[0][0]
    later = recommender.now + 3600
    after = recommender.recommend("notifications", user=user, k=10,
                                  recent=[(watched, later), ("not-in-catalog", later)])
    assert watched not in [i for i, _ in after.items]  # seen now: never notified again
    assert [i for i, _ in after.items] != [i for i, _ in before.items]
    request = recommender.request("notifications", user=user, recent=[(watched, later)])
    assert request.timeline is not None and request.requests.time[0] == later + 1
    history = request.requests.histories(request.timeline)
    assert history.row(0)[-1] == recommender.vocabulary.item_index[watched]
    # a member the model never saw is still a cold start, now with a history
    new = recommender.recommend("notifications", user="new-member", k=5,
                                recent=[(watched, later)])
    cold = recommender.recommend("notifications", user="new-member", k=5)
    assert new.cold_start and cold.cold_start and new.items != cold.items
    assert np.isfinite([s for _, s in new.items]).all()
