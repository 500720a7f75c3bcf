"""Ranking metrics and full-ranking evaluation on examples computed by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from reelgraph.recsys.metrics import ranking_metrics, top_k
from reelgraph.recsys.ragged import Ragged


def _scores(order: list[int], n: int = 25) -> np.ndarray:
    """Scores that rank the items in ``order`` first, then the rest by id."""
    rest = [i for i in range(n) if i not in order]
    scores = np.zeros(n)
    for rank, item in enumerate(order + rest):
        scores[item] = n - rank
    return scores


def test_hand_computed_example() -> None:
    scores = np.stack([
        _scores([5, 1, 9, 0]),  # relevant 1 and 0 at ranks 2 and 4
        _scores([0, 1, 2]),  # relevant 24: last of 25, outside the top 20
        _scores([0, 13, 1, 14, 2, 15, 3, 16, 4, 17]),  # 12 relevant, 5 in the top 10
    ])
    relevant = Ragged.from_rows([[1, 0], [24], [13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24]])
    top = top_k(scores, 20)
    assert top[0, :4].tolist() == [5, 1, 9, 0]
    m = ranking_metrics(top, relevant)
    ndcg0 = (1 / math.log2(3) + 1 / math.log2(5)) / (1 + 1 / math.log2(3))
    assert m["recall@10"] == pytest.approx([1.0, 0.0, 0.5])
    # request 3: ranks 11-20 are items 5-12 and 18, 19 (by id among the rest): 7 hits of 12
    assert m["recall@20"] == pytest.approx([1.0, 0.0, 7 / 12])
    discounts = 1 / np.log2(np.arange(2, 12))
    ndcg2 = discounts[[1, 3, 5, 7, 9]].sum() / discounts.sum()
    assert m["ndcg@10"] == pytest.approx([ndcg0, 0.0, ndcg2])


def test_top_k_breaks_ties_by_lower_index() -> None:
    assert top_k(np.array([[1.0, 3.0, 3.0, 0.0, 3.0]]), 3).tolist() == [[1, 2, 4]]
    assert top_k(np.array([[1.0, 2.0]]), 10).tolist() == [[1, 0]]
