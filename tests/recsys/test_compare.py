"""Paired bootstrap comparisons and the recent-popularity baseline."""

from __future__ import annotations

import numpy as np
import pytest

from reelgraph.core.errors import InvalidInput
from reelgraph.recsys.baselines import Popularity
from reelgraph.recsys.compare import overall, paired_bootstrap
from reelgraph.recsys.data import Interactions
from reelgraph.recsys.requests import DAY
from reelgraph.recsys.timeline import Timeline


def test_a_consistent_gain_is_a_win_and_noise_is_a_tie() -> None:
    rng = np.random.default_rng(1)
    base = rng.random(500)
    better = paired_bootstrap(base + 0.05 + 0.01 * rng.standard_normal(500), base)
    assert better.verdict == "win" and better.low > 0 and better.low < better.mean < better.high
    assert paired_bootstrap(base, base + 0.05).verdict == "loss"
    noise = paired_bootstrap(base + 0.3 * rng.standard_normal(500), base)
    assert noise.verdict == "tie" and noise.low < 0 < noise.high
    assert noise.to_dict()["verdict"] == "tie"


def test_paired_metrics_must_pair_up() -> None:
    with pytest.raises(InvalidInput, match="same requests"):
        paired_bootstrap(np.ones(3), np.ones(4))


def test_a_canvas_verdict_needs_every_win() -> None:
    assert overall(["win", "win"]) == "win"
    assert overall(["win", "tie"]) == "tie"
    assert overall(["win", "loss", "tie"]) == "loss"


def test_recent_popularity_counts_the_last_week_only() -> None:
    cutoff = 100 * DAY
    # item 0: popular long ago; item 1: twice in the last week; item 2: once, long ago
    times = np.array([1, 2, 3, 4, cutoff - 2 * DAY, cutoff - DAY, 5, cutoff + 1])
    items = np.array([0, 0, 0, 0, 1, 1, 2, 2], dtype=np.int32)
    users = np.arange(len(items), dtype=np.int32)
    log = Interactions(users, items, times.astype(np.int64), np.zeros(len(items), np.int16),
                       np.zeros(len(items), np.float32), ("x",))
    timeline = Timeline.of(log, len(items))
    recent = Popularity.recent(timeline, cutoff, 4).counts
    assert np.argsort(-recent).tolist()[:3] == [1, 0, 2]  # ties broken by all-time count
    assert Popularity.fit(timeline, cutoff, 4).counts.tolist() == [4, 2, 1, 0]
