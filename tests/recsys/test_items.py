"""Item features: popularity as known at a time, recent interactions weighing more."""

from __future__ import annotations

import numpy as np

from reelgraph.recsys.experiment import Prepared
from reelgraph.recsys.items import DAY, HALF_LIVES_DAYS, popularity
from reelgraph.recsys.timeline import Timeline


def _timeline(items: list[int], times: list[int]) -> Timeline:
    """One user's events, in time order."""
    return Timeline(np.array([0, len(items)]), np.array(items, dtype=np.int32),
                    np.array(times, dtype=np.int64), 0)


def test_popularity_counts_only_what_happened_before_as_of() -> None:
    as_of = 2000 * DAY
    # item 0: twice long ago; item 1: once just before as_of, then at and after as_of
    timeline = _timeline([0, 0, 1, 1, 2], [0, DAY, as_of - DAY, as_of, as_of + DAY])
    found = popularity(timeline, as_of, 4, half_lives_days=(30.0,))
    assert found.shape == (4, 2) and found.dtype == np.float32
    all_time, recent = found[:, 0], found[:, 1]
    assert all_time[0] == 1.0 and 0 < all_time[1] < 1.0  # 2 events against 1
    assert recent[1] == 1.0 and recent[0] < 0.01  # the decayed count favours the recent one
    assert (found[2:] == 0).all()  # at or after as_of, or never: no popularity


def test_prepared_items_carry_their_popularity_at_the_cutoff(prepared: Prepared) -> None:
    tasks = prepared.tasks
    expected = popularity(tasks.timeline, tasks.split.cutoff, tasks.dataset.n_items)
    assert prepared.items.popularity is not None
    assert prepared.items.popularity.shape == (tasks.dataset.n_items, 1 + len(HALF_LIVES_DAYS))
    np.testing.assert_array_equal(prepared.items.popularity, expected)
