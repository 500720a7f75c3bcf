"""The fixed lexical match (TF-IDF cosine of folded n-grams) and the blocks around it: still
one inner product, and a residual network that starts at its fixed blocks."""

from __future__ import annotations

import numpy as np
import torch

from reelgraph.recsys.batch import Featurizer, ItemInputs
from reelgraph.recsys.experiment import Prepared
from reelgraph.recsys.lexical import fold, idf, vectors
from reelgraph.recsys.model import ModelConfig, UnifiedNet
from reelgraph.recsys.text import TextEncoder

TITLES = [
    "the terminator",
    "terminator 2 judgment day",
    "toy story",
    "toy soldiers",
    "star wars",
    "the matrix",
]


def _match(queries: list[str], dim: int = 256) -> np.ndarray:
    encoder = TextEncoder(1 << 12, whole=True)
    titles = encoder.encode(TITLES)
    weights = idf(titles, encoder.buckets)
    column, sign = fold(encoder.buckets, dim)
    left = vectors(encoder.encode(queries), weights, column, sign, dim)
    return left @ vectors(titles, weights, column, sign, dim).T


def test_typos_truncation_and_exact_titles_find_the_title_meant() -> None:
    found = _match(["termnator", "terminator 2 judgmnt", "toy story", "star wa", "matirx"])
    assert [TITLES[i] for i in found.argmax(axis=1)] == [
        "the terminator",
        "terminator 2 judgment day",
        "toy story",
        "star wars",
        "the matrix",
    ]
    # the exact title's whole-text bucket puts it clearly above a title sharing a word
    assert found[2, 2] > 0.9 > found[2, 3] + 0.3


def test_vectors_are_unit_and_an_empty_text_is_zero() -> None:
    found = _match(["toy story", ""])
    assert np.isclose(found[0].max(), 1.0, atol=0.05)
    assert not found[1].any()


def _net(prepared: Prepared, residual: bool) -> tuple[UnifiedNet, Featurizer]:
    tasks, items = prepared.tasks, prepared.items
    assert items.prior is not None and items.popularity is not None
    config = ModelConfig(
        tasks.dataset.n_items,
        tasks.dataset.n_users,
        items.n_categories,
        items.n_tags,
        dim=8,
        buckets=prepared.encoder.buckets,
        history=10,
        popularity_dim=items.popularity.shape[1],
        text_dim=16,
        prior_rank=items.prior[0].shape[1],
        lexical_dim=64,
        fixed_popularity=True,
        residual=residual,
    )
    torch.manual_seed(0)
    net = UnifiedNet(config).eval()
    net.set_prior(*items.prior)
    net.set_lexical(items.title_grams)
    with torch.no_grad():
        net.popularity_weight.normal_()  # the block must take part in the check below
    return net, Featurizer(
        tasks.timeline, tasks.known_users, prepared.encoder, 10, tasks.dataset.n_items
    )


def test_the_score_is_one_inner_product_of_the_serving_sides(prepared: Prepared) -> None:
    net, featurize = _net(prepared, residual=False)
    items = ItemInputs.of(prepared.items)
    for canvas in ("search", "related", "notifications"):
        r = featurize(prepared.tasks.by_canvas[canvas].test.requests.take(np.arange(8)))
        with torch.no_grad():
            item_vectors, fixed = net.items(items)
            sides = net.request_side(r, item_vectors) @ net.item_side(item_vectors, fixed).T
            assert torch.allclose(net(r, items), sides, atol=1e-4)


def test_a_residual_network_starts_at_its_fixed_blocks(prepared: Prepared) -> None:
    """Untrained, a related request (no query) ranks by the EASE prior and popularity."""
    net, featurize = _net(prepared, residual=True)
    requests = prepared.tasks.by_canvas["related"].test.requests.take(np.arange(8))
    with torch.no_grad():
        scores = net(featurize(requests), ItemInputs.of(prepared.items)).numpy()
    assert prepared.items.prior is not None
    left, right = prepared.items.prior
    popularity = prepared.items.popularity
    assert popularity is not None
    weight = net.popularity_weight[0].detach().numpy()
    expected = net.prior_weight[0].item() * left[requests.source] @ right.T + popularity @ weight
    assert np.allclose(scores, expected, atol=1e-4)
