"""Popularity, EASE and fuzzy titles behave as their definitions say."""

from __future__ import annotations

import numpy as np
import pytest

from reelgraph.recsys.baselines import Ease, FuzzyTitles, Popularity
from reelgraph.recsys.canvases import NOTIFICATIONS, RELATED, SEARCH
from reelgraph.recsys.data import Interactions
from reelgraph.recsys.evaluation import evaluate, rank
from reelgraph.recsys.experiment import Prepared
from reelgraph.recsys.requests import Requests
from reelgraph.recsys.timeline import Timeline


def _toy() -> Timeline:
    """Six users; items 0 and 1 always go together, item 2 is the most popular alone."""
    pairs = [(u, 0) for u in range(3)] + [(u, 1) for u in range(3)] + \
        [(u, 2) for u in range(6)] + [(5, 3)]
    users, items = (np.array(x, dtype=np.int32) for x in zip(*pairs, strict=True))
    log = Interactions(users, items, np.arange(len(pairs), dtype=np.int64) + 100,
                       np.zeros(len(pairs), np.int16), np.zeros(len(pairs), np.float32), ("x",))
    return Timeline.of(log, 6)


def test_popularity_counts_only_the_past() -> None:
    timeline = _toy()
    popularity = Popularity.fit(timeline, cutoff=106, n_items=4)  # the first 6 events
    assert popularity.counts.tolist() == [3, 3, 0, 0]
    requests = Requests.build(RELATED, timeline, np.array([200, 200]), source=np.array([0, 1]))
    assert popularity.scores(requests).shape == (2, 4)


def test_ease_learns_items_that_go_together() -> None:
    timeline = _toy()
    ease = Ease.fit(timeline, cutoff=10**9, n_items=4, l2=1.0)
    assert np.allclose(np.diag(ease.weights), 0.0)
    related = Requests.build(RELATED, timeline, np.array([10**9]), source=np.array([0]))
    scores = ease.scores(related)[0]
    assert np.argmax(scores) == 1  # 0 -> 1, not the more popular 2
    # a user who saw item 0 only gets item 1 next
    timeline_one = Timeline(np.array([0, 1]), np.array([0], np.int32), np.array([5]), 0)
    ease.timeline = timeline_one
    notify = Requests.build(NOTIFICATIONS, timeline_one, np.array([10]), user=np.array([0]))
    top, _ = rank(ease, notify, timeline_one, np.zeros((0, 4), bool), 2)
    assert top[0, 0] == 1 and 0 not in top[0]  # seen items are never returned


def test_ease_keeps_only_the_most_popular_items() -> None:
    ease = Ease.fit(_toy(), cutoff=10**9, n_items=4, max_items=2)
    assert sorted(ease.modelled.tolist()) == [0, 2] or sorted(ease.modelled.tolist()) == [1, 2]


def test_fuzzy_titles_find_misspelt_titles(prepared: Prepared) -> None:
    dataset = prepared.tasks.dataset
    fuzzy = FuzzyTitles(dataset.catalog.titles)
    timeline = prepared.tasks.timeline
    requests = Requests.build(SEARCH, timeline, np.array([0, 0, 0]),
                              query=["toy stroy", "the matrx", ""])
    scores = fuzzy.scores(requests)
    titles = [dataset.catalog.titles[int(np.argmax(row))] for row in scores[:2]]
    assert titles[0].startswith("Toy Story") and titles[1] == "Matrix, The (1999)"
    assert not scores[2].any()


def test_baselines_on_real_data_are_sane(prepared: Prepared) -> None:
    tasks = prepared.tasks
    n_items = tasks.dataset.n_items
    popularity = Popularity.fit(tasks.timeline, tasks.split.cutoff, n_items)
    ease = Ease.fit(tasks.timeline, tasks.split.cutoff, n_items, max_items=1000)
    matrix = prepared.items.category_matrix
    results = {}
    for name, scorer in (("popularity", popularity), ("ease", ease)):
        results[name] = evaluate(scorer, tasks.by_canvas["category"].test, tasks.timeline,
                                 matrix)
        assert 0 < results[name]["recall@20"] <= 1 and results[name]["requests"] > 0
        assert results[name]["recall@10"] <= results[name]["recall@20"]
    random = evaluate(_Random(n_items), tasks.by_canvas["category"].test, tasks.timeline,
                      matrix)
    assert results["popularity"]["ndcg@10"] > random["ndcg@10"]


class _Random:
    def __init__(self, n_items: int) -> None:
        self.n_items = n_items

    def scores(self, requests: Requests) -> np.ndarray:
        return np.random.default_rng(0).random((len(requests), self.n_items))


@pytest.mark.parametrize("canvas", ["category", "notifications"])
def test_evaluation_excludes_what_the_user_saw(prepared: Prepared, canvas: str) -> None:
    tasks = prepared.tasks
    test = tasks.by_canvas[canvas].test
    popularity = Popularity.fit(tasks.timeline, tasks.split.cutoff, tasks.dataset.n_items)
    top, scores = rank(popularity, test.requests, tasks.timeline,
                       prepared.items.category_matrix, 20)
    seen = test.requests.histories(tasks.timeline)
    for i in range(len(test)):
        assert not set(top[i][np.isfinite(scores[i])].tolist()) & set(seen.row(i).tolist())
