"""An item-item prior the network corrects: EASE's weights, factored to stay an inner product.

EASE (``baselines.Ease``) scores a user by summing its weight matrix ``B``'s rows over their
history, and a related request by its source item's row; on these catalogs it beats any
mean-of-item-vectors model on related items. The network gets the same knowledge as a
residual: ``B`` (fitted on interactions before the cut-off) is factored by a truncated SVD,
``B ~ left @ right.T``, so a request's prior score for item ``i`` is
``(mean of left over its history, or left[source]) . right[i]``, one more block of the
request and item sides' inner product (a nearest-neighbour index still ranks every item).
The factors are scaled so that a strong co-occurrence scores about 1; the network learns
per canvas how much to trust it.
"""

from __future__ import annotations

import numpy as np

from reelgraph.recsys.baselines import Ease
from reelgraph.recsys.timeline import Timeline

TOP = 10  # a row's strongest weights set the scale


def ease_factors(timeline: Timeline, as_of: int, n_items: int, rank: int, l2: float,
                 max_items: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """float32 (left, right), each (items, rank): EASE weights before ``as_of``, factored
    by a randomized SVD (items outside EASE's most popular ``max_items`` get zeros)."""
    ease = Ease.fit(timeline, as_of, n_items, l2, max_items)
    weights = ease.weights.astype(np.float64)
    left = np.zeros((n_items, rank), np.float32)
    right = np.zeros((n_items, rank), np.float32)
    if len(weights) == 0:
        return left, right
    top = np.sort(weights, axis=1)[:, -TOP:]
    weights /= max(float(top.mean()), 1e-12)
    u, s, vt = _randomized_svd(weights, min(rank, len(weights)), seed)
    root = np.sqrt(s)
    left[ease.modelled, :len(s)] = u * root
    right[ease.modelled, :len(s)] = vt.T * root
    return left, right


def _randomized_svd(matrix: np.ndarray, rank: int, seed: int, oversample: int = 10,
                    iterations: int = 2) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Halko et al. 2011: the top ``rank`` singular triplets, in a few matrix products."""
    rng = np.random.default_rng(seed)
    width = min(rank + oversample, min(matrix.shape))
    basis, _ = np.linalg.qr(matrix @ rng.standard_normal((matrix.shape[1], width)))
    for _ in range(iterations):
        basis, _ = np.linalg.qr(matrix.T @ basis)
        basis, _ = np.linalg.qr(matrix @ basis)
    small_u, s, vt = np.linalg.svd(basis.T @ matrix, full_matrices=False)
    return (basis @ small_u)[:, :rank], s[:rank], vt[:rank]
