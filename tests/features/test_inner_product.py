"""The inner product index returns exactly the brute-force top items among the allowed ones."""

from __future__ import annotations

import numpy as np
import pytest

from reelgraph.features import InnerProductIndex


def brute_force(vectors: np.ndarray, query: np.ndarray, k: int, allowed: np.ndarray
                ) -> list[int]:
    scores = np.where(allowed, vectors @ query, -np.inf)
    order = np.argsort(-scores, kind="stable")
    return [int(i) for i in order[:k] if np.isfinite(scores[i])]


@pytest.mark.parametrize("share", [1.0, 0.97, 0.1, 0.002])
def test_exact_index_matches_brute_force(share: float) -> None:
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(2000, 24)).astype(np.float32)
    index = InnerProductIndex(vectors)
    assert index.kind == "exact"
    for _ in range(5):
        query = rng.normal(size=24).astype(np.float32)
        allowed = rng.random(2000) < share
        items, scores = index.search(query, 10, allowed)
        assert items.tolist() == brute_force(vectors, query, 10, allowed)
        assert np.all(np.diff(scores) <= 1e-6)
        assert allowed[items].all()


def test_fewer_allowed_than_k_returns_only_those() -> None:
    vectors = np.eye(8, dtype=np.float32)
    allowed = np.zeros(8, dtype=bool)
    allowed[[2, 5]] = True
    items, _ = InnerProductIndex(vectors).search(np.ones(8, np.float32), 5, allowed)
    assert sorted(items.tolist()) == [2, 5]
    nothing, _ = InnerProductIndex(vectors).search(np.ones(8, np.float32), 5, np.zeros(8, bool))
    assert len(nothing) == 0


def test_large_catalogs_use_hnsw_with_high_recall() -> None:
    rng = np.random.default_rng(1)
    vectors = rng.normal(size=(3000, 16)).astype(np.float32)
    index = InnerProductIndex(vectors, exact_below=1000)
    assert index.kind == "hnsw"
    hits = 0
    for _ in range(20):
        query = rng.normal(size=16).astype(np.float32)
        allowed = rng.random(3000) < 0.3  # a category-sized subset: the selector path
        items, _ = index.search(query, 10, allowed)
        assert allowed[items].all()
        hits += len(set(items.tolist()) & set(brute_force(vectors, query, 10, allowed)))
    assert hits / 200 >= 0.9
