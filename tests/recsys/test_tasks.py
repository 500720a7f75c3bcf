"""Each canvas's examples: right shape, and no future leakage.

Training: every input (history, context features) and every target lies strictly before the
cut-off, and no history reaches the request's time. Test: every request is at or after the
cut-off, its history ends before its time, and its relevant items happen at or after it.
"""

from __future__ import annotations

import numpy as np
import pytest

from reelgraph.core.errors import InvalidInput
from reelgraph.recsys.canvases import CATEGORY, DENSE_FEATURES, NOTIFICATIONS, RELATED, SEARCH
from reelgraph.recsys.experiment import Prepared
from reelgraph.recsys.requests import Requests
from reelgraph.recsys.split import TimeSplit
from reelgraph.recsys.tasks import Tasks
from reelgraph.recsys.timeline import Timeline

CANVASES = ["related", "category", "search", "notifications"]


@pytest.fixture
def tasks(prepared: Prepared) -> Tasks:
    return prepared.tasks


def _history_is_strictly_before(requests: Requests, timeline: Timeline) -> None:
    users = requests.user >= 0
    expected_end = timeline.position(requests.user[users], requests.time[users])
    assert (requests.history_end[users] == expected_end).all()
    assert (requests.history_start[users] == timeline.start(requests.user[users])).all()
    history = requests.histories(timeline)
    times = timeline.times[np.repeat(requests.history_start, history.lengths)
                           + (np.arange(len(history.values)) - np.repeat(
                               history.offsets[:-1], history.lengths))]
    assert (times < requests.time[history.row_ids]).all()
    assert (requests.history_end[~users] == requests.history_start[~users]).all()


@pytest.mark.parametrize("name", CANVASES)
def test_training_examples_lie_before_the_cutoff(tasks: Tasks, name: str) -> None:
    train = tasks.by_canvas[name].train
    cutoff = tasks.split.cutoff
    assert len(train) > 0
    assert (train.target_time < cutoff).all()
    assert (train.requests.time < cutoff).all()
    assert (train.requests.time <= np.maximum(train.target_time, train.requests.time)).all()
    dated = train.target_time > 0  # search's catalog queries are timeless, and have no user
    assert (train.requests.time[dated] <= train.target_time[dated]).all()
    assert (train.requests.user[~dated] == -1).all()
    _history_is_strictly_before(train.requests, tasks.timeline)
    assert (train.requests.canvas == tasks.by_canvas[name].canvas.index).all()


def _user_events(timeline: Timeline, user: int) -> tuple[np.ndarray, np.ndarray]:
    start, end = timeline.offsets[user], timeline.offsets[user + 1]
    return timeline.items[start:end], timeline.times[start:end]


@pytest.mark.parametrize("name", CANVASES)
def test_test_requests_are_judged_by_the_future(tasks: Tasks, name: str) -> None:
    test = tasks.by_canvas[name].test
    timeline = tasks.timeline
    assert len(test) > 0
    assert (test.requests.time >= tasks.split.cutoff).all()
    assert (test.relevant.lengths > 0).all()
    _history_is_strictly_before(test.requests, timeline)
    if name == "related":
        return  # no user: checked below
    for i in range(len(test)):
        items, times = _user_events(timeline, int(test.requests.user[i]))
        seen_before = set(items[times < test.requests.time[i]].tolist())
        later = set(items[times >= test.requests.time[i]].tolist())
        relevant = set(test.relevant.row(i).tolist())
        assert relevant <= later
        if name in ("category", "notifications"):
            assert not relevant & seen_before  # only unseen items count


def test_related_targets_are_what_the_sources_watcher_went_on_to_watch(tasks: Tasks) -> None:
    train = tasks.by_canvas["related"].train
    assert (train.requests.source >= 0).all() and (train.requests.user == -1).all()
    assert (train.target != train.requests.source).all()
    test = tasks.by_canvas["related"].test
    timeline = tasks.timeline
    config = tasks.inputs.config
    for i in range(len(test)):
        source, at = int(test.requests.source[i]), int(test.requests.time[i])
        position = np.flatnonzero((timeline.items == source) & (timeline.times == at))[0]
        user = int(tasks.inputs.users[position])
        after = timeline.items[position + 1: min(position + 1 + config.related_next,
                                                 timeline.offsets[user + 1])]
        assert set(test.relevant.row(i).tolist()) <= set(after.tolist()) - {source}


def test_category_requests_rank_their_category(tasks: Tasks) -> None:
    matrix = tasks.dataset.catalog.category_matrix
    train = tasks.by_canvas["category"].train
    assert matrix[train.requests.category, train.target].all()
    test = tasks.by_canvas["category"].test
    for i in range(len(test)):
        assert matrix[test.requests.category[i], test.relevant.row(i)].all()


def test_notification_windows_and_context_features(tasks: Tasks) -> None:
    task = tasks.by_canvas["notifications"]
    width = tasks.inputs.config.window_days * 86_400
    train = task.train
    assert (train.target_time < train.requests.time + width).all()
    assert (train.requests.time + width <= tasks.split.cutoff).all()
    own = [DENSE_FEATURES.index(f) for f in NOTIFICATIONS.features]
    assert train.requests.dense_mask[:, own].all()
    assert train.requests.dense_mask.sum(axis=1).max() == len(own)
    # days since the last event, recomputed by hand for a few requests
    timeline = tasks.timeline
    for i in range(0, len(train), max(len(train) // 20, 1)):
        end = train.requests.history_end[i]
        days = (train.requests.time[i] - timeline.times[end - 1]) / 86_400
        assert train.requests.dense[i, own[0]] == pytest.approx(np.log1p(days), rel=1e-5)


def test_each_canvas_has_only_its_own_inputs(tasks: Tasks) -> None:
    for canvas, task in ((RELATED, "related"), (CATEGORY, "category"), (SEARCH, "search"),
                         (NOTIFICATIONS, "notifications")):
        requests = tasks.by_canvas[task].train.requests
        assert ((requests.source >= 0).all() if "item" in canvas.requires
                else (requests.source == -1).all())
        assert ((requests.category >= 0).all() if canvas.within_category
                else (requests.category == -1).all())
        assert (all(requests.query) if "query" in canvas.requires
                else not any(requests.query))
        own = [DENSE_FEATURES.index(f) for f in canvas.features]
        others = [i for i in range(len(DENSE_FEATURES)) if i not in own]
        assert requests.dense_mask[:, own].all() and not requests.dense_mask[:, others].any()


def test_search_test_queries_are_held_apart_from_training(tasks: Tasks) -> None:
    train = tasks.by_canvas["search"].train
    pairs = set(zip(train.target.tolist(), train.requests.query, strict=True))
    test = tasks.by_canvas["search"].test
    items = test.relevant.values.tolist()
    assert not {(item, q) for item, q in zip(items, test.requests.query, strict=True)} & pairs
    assert len(set(test.requests.query)) > 0.8 * len(test)


def test_generation_is_seeded(prepared: Prepared) -> None:
    from reelgraph.recsys.tasks import build_tasks

    again = build_tasks(prepared.tasks.dataset, prepared.tasks.split,
                        prepared.tasks.inputs.config)
    for name in CANVASES:
        first, second = prepared.tasks.by_canvas[name], again.by_canvas[name]
        assert (first.train.target == second.train.target).all()
        assert first.test.requests.query == second.test.requests.query


def test_the_split_is_a_global_quantile(tasks: Tasks) -> None:
    times = tasks.dataset.interactions.time
    held_out = (times >= tasks.split.cutoff).mean()
    assert 0.19 <= held_out <= 0.21
    assert "last 20%" in tasks.split.describe()
    with pytest.raises(InvalidInput, match="holdout"):
        TimeSplit.at_quantile(tasks.dataset.interactions, 1.5)


def test_timeline_positions_are_strictly_before() -> None:
    from reelgraph.recsys.data import Interactions

    log = Interactions(user=np.array([1, 0, 1, 1], np.int32), item=np.array([5, 6, 7, 5], np.int32),
                       time=np.array([10, 5, 20, 30], np.int64), event=np.zeros(4, np.int16),
                       value=np.zeros(4, np.float32), event_names=("x",))
    timeline = Timeline.of(log, 2)
    assert timeline.items.tolist() == [6, 5, 7, 5] and timeline.offsets.tolist() == [0, 1, 4]
    assert timeline.position(np.array([1, 1, 1, 0]), np.array([10, 11, 99, 5])).tolist() == [
        1, 2, 4, 0]
    assert timeline.first_seen().tolist() == [5, 10, 20, 10]
    assert timeline.before(20).items.tolist() == [6, 5]
