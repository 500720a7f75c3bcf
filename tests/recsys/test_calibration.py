"""The calibration (``recsys.calibration``): each canvas's fixed-block weights fitted to
convergence on its own examples, over the items the canvas may return."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from recsys_samples import SMALL_CONFIG

from reelgraph.recsys.batch import Bag, Featurizer, ItemInputs
from reelgraph.recsys.calibration import (
    block_scores,
    calibrate,
    canvas_weights,
    fit_weights,
    returnable,
)
from reelgraph.recsys.canvases import CANVASES, CATEGORY, RELATED
from reelgraph.recsys.experiment import Prepared
from reelgraph.recsys.freshness import RecentCounts
from reelgraph.recsys.hyperparameters import TrainConfig
from reelgraph.recsys.model import ModelConfig, UnifiedNet, latest_of
from reelgraph.recsys.ragged import Ragged

CONFIG = TrainConfig(calibrate=True, calibration_examples=300)


def _net(prepared: Prepared, recent_history: int = 0) -> tuple[UnifiedNet, Featurizer]:
    tasks, items = prepared.tasks, prepared.items
    n_items = tasks.dataset.n_items
    assert items.prior is not None
    config = ModelConfig(n_items, tasks.dataset.n_users, items.n_categories, items.n_tags,
                         dim=8, buckets=prepared.encoder.buckets, history=10, residual=True,
                         fresh_popularity=True, prior_rank=SMALL_CONFIG.prior_rank,
                         recent_history=recent_history)
    torch.manual_seed(0)
    net = UnifiedNet(config)
    net.set_prior(*items.prior)
    featurize = Featurizer(tasks.timeline, tasks.known_users, prepared.encoder, 10, n_items,
                           RecentCounts.of(tasks.timeline, n_items))
    return net, featurize


def _weights(net: UnifiedNet, canvas_index: int) -> torch.Tensor:
    return torch.cat([p.detach()[canvas_index].reshape(-1) for p in net.trust_parameters()])


def test_a_canvas_gets_the_same_weights_alone_as_beside_the_others(prepared: Prepared
                                                                   ) -> None:
    """So the unified model at epoch 0 is its single-task twins at epoch 0."""
    items = ItemInputs.of(prepared.items)
    together, featurize = _net(prepared)
    calibrate(together, prepared.tasks.training(), featurize, items, CONFIG)
    for canvas in (RELATED, CATEGORY):
        alone, featurize = _net(prepared)
        used = calibrate(alone, prepared.tasks.training((canvas.name,)), featurize, items,
                         CONFIG)
        assert used == {canvas.name: min(300, len(prepared.tasks.training((canvas.name,))))}
        torch.testing.assert_close(_weights(alone, canvas.index),
                                   _weights(together, canvas.index), rtol=1e-4, atol=1e-4)
        assert not torch.equal(_weights(alone, canvas.index), _weights(_net(prepared)[0],
                                                                       canvas.index))


def test_the_fitted_weights_are_the_optimum(prepared: Prepared) -> None:
    """The loss's gradient vanishes at the weights calibration finds, and no nearby
    weights do better (the old one-pass Adam stopped far from it)."""
    net, featurize = _net(prepared, recent_history=3)
    items = ItemInputs.of(prepared.items)
    examples = prepared.tasks.training(("category",))
    examples = examples.take(np.arange(min(200, len(examples))))
    weights = canvas_weights(net, CATEGORY)
    assert len(weights) == 7  # text match, prior, 4 fresh popularity windows, recent prior
    with torch.no_grad():
        item_vectors, titles = net.items(items)
    base, features = block_scores(net, featurize(examples.requests), item_vectors, titles,
                                  weights)
    # the features are what each weight multiplies: the score is linear in them
    start = torch.tensor([float(p.data.view(-1)[at]) for p, at in weights])
    with torch.no_grad():
        direct = net.score(featurize(examples.requests), item_vectors, titles)
    torch.testing.assert_close(base + features @ start, direct, rtol=1e-4, atol=1e-4)
    target = torch.from_numpy(examples.target.astype(np.int64))
    allowed = returnable(examples, featurize, items)
    fitted = fit_weights(base, features, target, allowed, start, 200)

    def loss(w: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy((base + features @ w).masked_fill(~allowed, float("-inf")),
                               target)

    w = fitted.clone().requires_grad_(True)
    loss(w).backward()
    assert w.grad is not None
    assert float(w.grad.abs().max()) < 1e-3
    assert float(loss(fitted)) < float(loss(start)) - 0.01
    for k in range(len(weights)):
        for step in (-0.1, 0.1):
            nudged = fitted.clone()
            nudged[k] += step
            assert float(loss(nudged)) >= float(loss(fitted)) - 1e-6


def test_the_softmax_holds_only_what_the_canvas_may_return(prepared: Prepared) -> None:
    _, featurize = _net(prepared)
    items = ItemInputs.of(prepared.items)
    for canvas in CANVASES:
        examples = prepared.tasks.training((canvas.name,))
        examples = examples.take(np.arange(min(50, len(examples))))
        mask = returnable(examples, featurize, items).numpy()
        assert mask[np.arange(len(examples)), examples.target].all()
        histories = examples.requests.histories(prepared.tasks.timeline)
        for row in range(len(examples)):
            seen = set(histories.row(row).tolist()) - {int(examples.target[row])}
            if canvas.excludes_seen and seen:
                assert not mask[row, sorted(seen)].any()
            if canvas.excludes_source:
                assert not mask[row, examples.requests.source[row]]
            if canvas.within_category:
                category = examples.requests.category[row]
                outside = ~prepared.items.category_matrix[category]
                outside[examples.target[row]] = False
                assert not mask[row, outside].any()
            if canvas.name == "search":
                assert mask[row].all()


def test_the_latest_history_keeps_each_rows_last_items() -> None:
    history = Bag.of(Ragged.from_rows([[4, 5, 6, 7], [], [9], [1, 2]]), 10)
    latest = latest_of(history, 2)
    rows, values, weights = latest.triples
    assert rows.tolist() == [0, 0, 2, 3, 3]
    assert values.tolist() == [6, 7, 9, 1, 2]
    np.testing.assert_allclose(weights, [0.5, 0.5, 1.0, 0.5, 0.5])
