"""Popularity as of each request's time (issue 17's freshness), the calibration pass that
weighs the fixed blocks before training, and epoch 0 (the calibrated, untrained network)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch
from recsys_samples import SMALL_CONFIG

from reelgraph.recsys.batch import Featurizer, ItemInputs
from reelgraph.recsys.experiment import Prepared, best_epoch, fit
from reelgraph.recsys.freshness import DAY, WINDOWS_DAYS, RecentCounts
from reelgraph.recsys.hyperparameters import TrainConfig
from reelgraph.recsys.model import ModelConfig, UnifiedNet
from reelgraph.recsys.training import train

FRESH = replace(SMALL_CONFIG, fresh_popularity=True, residual=True, validation=0.0,
                train=replace(SMALL_CONFIG.train, calibrate=True))


def _brute_force(prepared: Prepared, time: int) -> np.ndarray:
    timeline, n_items = prepared.tasks.timeline, prepared.tasks.dataset.n_items
    columns = []
    for days in WINDOWS_DAYS:
        keep = timeline.times < time
        if days > 0:
            keep &= timeline.times >= time - days * DAY
        logs = np.log1p(np.bincount(timeline.items[keep], minlength=n_items))
        columns.append(logs / max(logs.max(initial=0.0), 1e-6))
    return np.stack(columns, axis=1)


def test_popularity_counts_only_events_before_the_request(prepared: Prepared) -> None:
    timeline = prepared.tasks.timeline
    counts = RecentCounts.of(timeline, prepared.tasks.dataset.n_items)
    # event times themselves (an event at t must not count for a request at t), the
    # cut-off, and times before the first and after the last event
    times = np.r_[timeline.times[[0, 7, len(timeline.times) // 2, -1]],
                  prepared.tasks.split.cutoff, timeline.times.min() - 1,
                  timeline.times.max() + 40 * DAY]
    found = counts.features(times)
    for row, time in enumerate(times):
        np.testing.assert_allclose(found[row], _brute_force(prepared, int(time)), atol=1e-6)
    assert not found[5].any()  # nothing happened before the first event
    columns = np.array([3, 0, 11])
    np.testing.assert_array_equal(counts.features(times, columns), found[:, columns])


def test_the_calibration_pass_moves_only_the_fixed_blocks_weights(prepared: Prepared) -> None:
    tasks, items = prepared.tasks, prepared.items
    n_items = tasks.dataset.n_items
    config = ModelConfig(n_items, tasks.dataset.n_users, items.n_categories, items.n_tags,
                         dim=8, buckets=prepared.encoder.buckets, history=10,
                         residual=True, fresh_popularity=True)
    torch.manual_seed(0)
    net = UnifiedNet(config)
    featurize = Featurizer(tasks.timeline, tasks.known_users, prepared.encoder, 10, n_items,
                           RecentCounts.of(tasks.timeline, n_items))
    before = {name: p.detach().clone() for name, p in net.named_parameters()}
    seen: list[int] = []

    def stop(epoch: int) -> bool:
        seen.append(epoch)
        return True

    result = train(net, tasks.training(), featurize, ItemInputs.of(items),
                   TrainConfig(epochs=3, batch_size=512, negatives=256, calibrate=True), stop)
    assert seen == [0] and result.losses == []  # the caller stopped it at epoch 0
    trust = {"text_weight", "fresh_weight"}
    for name, p in net.named_parameters():
        moved = not torch.equal(before[name], p.detach())
        assert moved == (name in trust), name
    # popularity as of the request is weighed up where it predicts: every canvas but search
    # (which starts from the text match) learns a positive weight for a recent window
    weights = net.fresh_weight.detach()
    assert (weights[[0, 1, 3]].max(dim=1).values > 0).all()


def test_the_served_inner_product_includes_fresh_popularity(prepared: Prepared) -> None:
    fitted = fit(prepared, replace(FRESH, train=replace(FRESH.train, epochs=0)))
    recommender = fitted.recommender
    assert recommender.net.fresh_weight.detach().abs().sum() > 0
    request = recommender.request("notifications", user=recommender.vocabulary.user_ids[0])
    served = recommender.item_vectors() @ recommender.request_vector(request)
    ranked = recommender.scorer.scores(request.requests)[0]
    np.testing.assert_allclose(served, ranked, rtol=1e-4, atol=1e-4)


def test_epoch_zero_can_win_the_validation() -> None:
    """Training must earn every epoch: when no epoch beats the calibrated network, none is
    kept."""
    scores = [{"related": 0.10, "category": 0.30}, {"related": 0.09, "category": 0.30},
              {"related": 0.10, "category": 0.29}]
    assert best_epoch(scores, first=0) == 0
    assert best_epoch(scores) == 1


@pytest.mark.parametrize("epochs", [0, 1])
def test_a_calibrated_residual_model_ranks_every_canvas(prepared: Prepared,
                                                        epochs: int) -> None:
    unvalidated = replace(prepared, validation=None)  # trains the epochs asked for
    fitted = fit(unvalidated, replace(FRESH, train=replace(FRESH.train, epochs=epochs)))
    assert len(fitted.losses) == epochs
    for canvas in ("related", "category", "search", "notifications"):
        task = prepared.tasks.by_canvas[canvas].test
        scores = fitted.recommender.scorer.scores(task.requests.take(np.arange(4)))
        assert scores.shape == (4, prepared.tasks.dataset.n_items)
        assert np.isfinite(scores).all() and scores.std() > 0
