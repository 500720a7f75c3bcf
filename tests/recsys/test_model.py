"""The unified network: learned defaults fill what a canvas lacks, and training learns."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from reelgraph.recsys.batch import Featurizer, ItemInputs
from reelgraph.recsys.canvases import CANVAS_NAMES, DENSE_FEATURES, NOTIFICATIONS
from reelgraph.recsys.experiment import Prepared
from reelgraph.recsys.hyperparameters import TrainConfig
from reelgraph.recsys.model import ModelConfig, UnifiedNet
from reelgraph.recsys.requests import Requests
from reelgraph.recsys.training import batch_loss, train


def _net(prepared: Prepared, vector_dim: int = 0, popularity_dim: int = 0
         ) -> tuple[UnifiedNet, Featurizer]:
    tasks, items = prepared.tasks, prepared.items
    config = ModelConfig(tasks.dataset.n_items, tasks.dataset.n_users, items.n_categories,
                         items.n_tags, dim=8, buckets=prepared.encoder.buckets, history=10,
                         vector_dim=vector_dim, popularity_dim=popularity_dim)
    torch.manual_seed(0)
    featurize = Featurizer(tasks.timeline, tasks.known_users, prepared.encoder, 10,
                           tasks.dataset.n_items)
    return UnifiedNet(config).eval(), featurize


def _scores(net: UnifiedNet, featurize: Featurizer, prepared: Prepared, canvas: str
            ) -> torch.Tensor:
    requests = prepared.tasks.by_canvas[canvas].train.requests.take(np.arange(16))
    with torch.no_grad():
        return net(featurize(requests), ItemInputs.of(prepared.items))


def test_scores_every_item_for_every_canvas(prepared: Prepared) -> None:
    net, featurize = _net(prepared)
    for canvas in CANVAS_NAMES:
        scores = _scores(net, featurize, prepared, canvas)
        assert scores.shape == (16, prepared.tasks.dataset.n_items)
        assert torch.isfinite(scores).all()


def test_missing_context_features_take_the_learned_defaults(prepared: Prepared) -> None:
    net, featurize = _net(prepared)
    query_length = DENSE_FEATURES.index("query_length")
    related = prepared.tasks.by_canvas["related"].train.requests.take(np.arange(16))
    assert not related.dense_mask.any()  # related has no context features at all
    items = ItemInputs.of(prepared.items)
    with torch.no_grad():
        before = net(featurize(related), items)
        # what a masked-out feature holds is never read ...
        noisy = replace(related, dense=np.full_like(related.dense, 123.0))
        assert torch.equal(net(featurize(noisy), items), before)
        # ... its learned default is
        net.dense_default[query_length] = 5.0
        assert not torch.allclose(net(featurize(related), items), before)
        search = prepared.tasks.by_canvas["search"].train.requests.take(np.arange(16))
        with_query = net(featurize(search), items)
        net.dense_default[query_length] = -5.0  # search has the feature: default unused
        assert torch.equal(net(featurize(search), items), with_query)


@pytest.mark.parametrize(("canvas", "default"), [
    ("related", "no_user"), ("related", "no_query"), ("related", "no_category"),
    ("search", "no_source"), ("notifications", "no_source"), ("category", "no_query"),
])
def test_missing_inputs_take_their_learned_vectors(prepared: Prepared, canvas: str,
                                                   default: str) -> None:
    net, featurize = _net(prepared)
    before = _scores(net, featurize, prepared, canvas)
    with torch.no_grad():
        getattr(net, default).add_(1.0)
    assert not torch.allclose(_scores(net, featurize, prepared, canvas), before)


def test_unknown_users_use_the_unknown_user_row(prepared: Prepared) -> None:
    _, featurize = _net(prepared)
    tasks = prepared.tasks
    never_seen = np.full(4, tasks.dataset.n_users)  # one past the vocabulary
    inputs = featurize(Requests.build(NOTIFICATIONS, tasks.timeline,
                                      np.full(4, tasks.split.cutoff), user=never_seen))
    assert (inputs.user == 0).all() and inputs.has_user.all() and not inputs.has_history.any()


def test_precomputed_item_vectors_enter_the_item_tower(prepared: Prepared) -> None:
    vectors = np.random.default_rng(0).normal(size=(prepared.tasks.dataset.n_items, 6))
    with_vectors = replace(prepared, items=replace(prepared.items,
                                                   vectors=vectors.astype(np.float32)))
    net, featurize = _net(with_vectors, vector_dim=6)
    scores = _scores(net, featurize, with_vectors, "search")
    assert scores.shape[1] == prepared.tasks.dataset.n_items


def test_item_popularity_enters_the_item_tower(prepared: Prepared) -> None:
    assert prepared.items.popularity is not None
    net, _ = _net(prepared, popularity_dim=prepared.items.popularity.shape[1])
    items = ItemInputs.of(prepared.items)
    flipped = ItemInputs.of(replace(prepared.items,
                                    popularity=1.0 - prepared.items.popularity))
    plain, _ = _net(prepared)  # a model made without the feature ignores it
    with torch.no_grad():
        assert not torch.allclose(net.items(items)[0], net.items(flipped)[0])
        assert torch.equal(plain.items(items)[0], plain.items(flipped)[0])


def test_sampled_negatives_are_the_uniform_draws_not_other_rows_targets(
        prepared: Prepared) -> None:
    """Each row's loss is the same alone as in a batch: the other rows' targets, which
    are drawn by popularity, do not compete with it."""
    net, featurize = _net(prepared)
    examples = prepared.tasks.by_canvas["notifications"].train.take(np.arange(8))
    items = ItemInputs.of(prepared.items)
    config = TrainConfig(negatives=16, user_dropout=0.0)

    def loss(rows: np.ndarray) -> float:
        batch = examples.take(rows)
        target = torch.from_numpy(batch.target.astype(np.int64))
        with torch.no_grad():
            value, _ = batch_loss(net, featurize(batch.requests), items, target, config,
                                  torch.Generator().manual_seed(3))
        return float(value)

    alone = [loss(np.array([i])) for i in range(len(examples))]
    assert len(set(examples.target.tolist())) > 1
    assert loss(np.arange(len(examples))) == pytest.approx(float(np.mean(alone)), rel=1e-5)


@pytest.mark.parametrize("negatives", [0, 256])
def test_training_reduces_the_loss_on_every_canvas(prepared: Prepared, negatives: int) -> None:
    net, featurize = _net(prepared)
    examples = prepared.tasks.training()
    result = train(net, examples, featurize, ItemInputs.of(prepared.items),
                   TrainConfig(epochs=3, lr=1e-2, negatives=negatives, batch_size=512))
    assert result.losses[-1] < result.losses[0] - 0.3
    first, last = result.canvas_losses[0], result.canvas_losses[-1]
    assert set(last) == set(CANVAS_NAMES)
    assert all(last[c] < first[c] for c in CANVAS_NAMES), (first, last)
    assert result.seconds > 0 and not net.training


def test_a_canvas_weighted_zero_is_not_learned(prepared: Prepared) -> None:
    net, featurize = _net(prepared)
    weights = dict.fromkeys(CANVAS_NAMES, 1.0) | {"search": 0.0}
    result = train(net, prepared.tasks.training(), featurize, ItemInputs.of(prepared.items),
                   TrainConfig(epochs=2, lr=1e-2, canvas_weights=weights, batch_size=512))
    with torch.no_grad():
        assert float(net.text_weight[CANVAS_NAMES.index("search")]) == pytest.approx(4.0)
    assert result.losses[-1] < result.losses[0]
