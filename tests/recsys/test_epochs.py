"""How long the network trains: a decaying learning rate, and the epoch count picked on a
validation split inside the training period (never the test period)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch
from recsys_samples import SMALL_CONFIG

from reelgraph.recsys import experiment
from reelgraph.recsys.batch import Featurizer, ItemInputs
from reelgraph.recsys.data import Dataset
from reelgraph.recsys.experiment import Prepared, best_epoch, fit, prepare
from reelgraph.recsys.hyperparameters import TrainConfig
from reelgraph.recsys.items import popularity
from reelgraph.recsys.model import ModelConfig, UnifiedNet
from reelgraph.recsys.training import decay, train


@pytest.fixture(scope="module")
def validated(small: Dataset) -> Prepared:
    return prepare(small, replace(SMALL_CONFIG, validation=0.25))


def _net(prepared: Prepared, text_dim: int = 0) -> tuple[UnifiedNet, Featurizer]:
    tasks, items = prepared.tasks, prepared.items
    config = ModelConfig(tasks.dataset.n_items, tasks.dataset.n_users, items.n_categories,
                         items.n_tags, dim=8, buckets=prepared.encoder.buckets, history=10,
                         text_dim=text_dim)
    torch.manual_seed(0)
    featurize = Featurizer(tasks.timeline, tasks.known_users, prepared.encoder, 10,
                           tasks.dataset.n_items)
    return UnifiedNet(config).eval(), featurize


def test_the_learning_rate_decays_over_all_of_training() -> None:
    assert decay("cosine", 0.0) == 1.0 and decay("cosine", 1.0) == pytest.approx(0.0)
    assert decay("cosine", 0.5) == pytest.approx(0.5)
    assert decay("linear", 0.25) == pytest.approx(0.75)
    assert decay("constant", 0.9) == 1.0


def test_training_stops_after_the_epoch_its_caller_says(prepared: Prepared) -> None:
    net, featurize = _net(prepared)
    seen: list[int] = []

    def after_epoch(epoch: int) -> bool:
        assert not net.training  # evaluated as it will serve
        seen.append(epoch)
        return epoch >= 2

    result = train(net, prepared.tasks.training(), featurize, ItemInputs.of(prepared.items),
                   TrainConfig(epochs=4, batch_size=512, negatives=256), after_epoch)
    assert seen == [1, 2] and len(result.losses) == 2


def test_the_best_epoch_weighs_each_canvas_by_its_own_best() -> None:
    """Search's NDCG is ~10x category's: a small search gain must not buy a category loss
    of half (the plain mean would pick epoch 2)."""
    scores = [{"search": 0.70, "category": 0.10}, {"search": 0.78, "category": 0.05}]
    assert np.mean(list(scores[1].values())) > np.mean(list(scores[0].values()))
    assert best_epoch(scores) == 1
    assert best_epoch([{"category": 0.1}, {"category": 0.3}, {"category": 0.2}]) == 2


def test_the_validation_split_lies_inside_the_training_period(validated: Prepared) -> None:
    inner, cutoff = validated.validation, validated.tasks.split.cutoff
    assert inner is not None and inner.validation is None
    assert inner.tasks.timeline.times.max() < cutoff
    assert inner.tasks.split.cutoff < cutoff
    for task in inner.tasks.by_canvas.values():
        assert (task.test.requests.time < cutoff).all()
        assert (task.train.target_time < inner.tasks.split.cutoff).all()
    # its item features are as of its own cut-off
    assert inner.items.popularity is not None
    assert np.array_equal(inner.items.popularity,
                          popularity(inner.tasks.timeline, inner.tasks.split.cutoff,
                                     inner.tasks.dataset.n_items))


def test_fit_retrains_for_the_best_validation_epoch(validated: Prepared,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    config = replace(SMALL_CONFIG, validation=0.25, gated_residual=False,  # no gate: one
                     train=replace(SMALL_CONFIG.train, epochs=3))  # epoch for all canvases
    picked: list[list[dict[str, float]]] = []

    def pick_first(scores: list[dict[str, float]], first: int = 1) -> int:
        picked.append(scores)
        assert first == 0  # calibrated: the untrained network (epoch 0) is scored too
        return 1

    monkeypatch.setattr(experiment, "best_epoch", pick_first)
    fitted = fit(validated, config, ("category", "notifications"))
    assert len(picked) == 1 and fitted.validation == picked[0]
    assert len(fitted.validation) == 4  # epoch 0 and every epoch of the validation run
    assert set(fitted.validation[0]) == {"category", "notifications"}
    assert len(fitted.losses) == 1  # the final model stopped where validation said


def test_without_validation_fit_trains_every_epoch(prepared: Prepared) -> None:
    config = replace(SMALL_CONFIG, validation=0.0, train=replace(SMALL_CONFIG.train, epochs=2))
    fitted = fit(replace(prepared, validation=None), config, ("related",))
    assert len(fitted.losses) == 2 and fitted.validation == []


def test_the_title_match_has_its_own_wider_table(prepared: Prepared) -> None:
    net, featurize = _net(prepared, text_dim=24)
    assert net.match is not None
    items = ItemInputs.of(prepared.items)

    def scores(canvas: str) -> torch.Tensor:
        requests = prepared.tasks.by_canvas[canvas].train.requests.take(np.arange(16))
        with torch.no_grad():
            return net(featurize(requests), items)

    with torch.no_grad():
        item_vectors, titles = net.items(items)
        assert net.item_side(item_vectors, titles).shape[1] == 8 + 24 + 1
    search, category = scores("search"), scores("category")
    with torch.no_grad():
        net.match.weight.mul_(-1.0).add_(0.3)
    assert not torch.allclose(scores("search"), search)  # queries are matched in it
    assert torch.equal(scores("category"), category)  # the towers do not read it
