"""Ranking metrics with binary relevance over full rankings.

Recall@K = hits in the top K / min(K, relevant items), so a perfect list scores 1 even when
more than K items are relevant. NDCG@K = DCG of the top K (gain 1 per hit, discount
1/log2(rank + 1)) / the DCG of an ideal list. Each is averaged over requests.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from reelgraph.recsys.ragged import Ragged

CUTOFFS = (10, 20)
NDCG_AT = 10
METRICS = ("recall@10", "recall@20", "ndcg@10")


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """The indices of each row's ``k`` highest scores, best first (ties: lower index)."""
    k = min(k, scores.shape[1])
    part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    order = np.lexsort((part, -np.take_along_axis(scores, part, axis=1)), axis=1)
    return np.take_along_axis(part, order, axis=1)


def hits(top: np.ndarray, relevant: Ragged) -> np.ndarray:
    """bool (requests, k): whether each ranked item is relevant."""
    found = np.zeros(top.shape, dtype=bool)
    for i in range(len(top)):
        found[i] = np.isin(top[i], relevant.row(i))
    return found


def ranking_metrics(top: np.ndarray, relevant: Ragged,
                    cutoffs: Sequence[int] = CUTOFFS) -> dict[str, np.ndarray]:
    """Per-request recall@K for each cutoff and NDCG@10."""
    found = hits(top, relevant)
    n_relevant = relevant.lengths.astype(np.float64)
    result = {f"recall@{k}": found[:, :k].sum(axis=1) / np.minimum(k, n_relevant)
              for k in cutoffs}
    discounts = 1.0 / np.log2(np.arange(2, NDCG_AT + 2))
    dcg = (found[:, :NDCG_AT] * discounts[: found[:, :NDCG_AT].shape[1]]).sum(axis=1)
    ideal = np.cumsum(discounts)[np.minimum(n_relevant, NDCG_AT).astype(int) - 1]
    result[f"ndcg@{NDCG_AT}"] = dcg / ideal
    return result
