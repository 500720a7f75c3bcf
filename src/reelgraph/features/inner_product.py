"""Maximum inner product search over a fixed set of vectors, with a per-query filter.

A recommender scores an item as ``request vector . item vector``, so its top items are the
request vector's nearest neighbours by inner product. Below
``exact_below`` items the search is exact: one matrix-vector product and a partial sort in
NumPy (as fast as FAISS's flat index for one query, ~60 us at 10k items, and it filters
with the canvas's mask directly). Above it, a FAISS HNSW index; items a canvas does not
allow are then handled two ways: a small allowed set (a category) restricts the search with an ID
selector; a few excluded items (what the user saw) are over-fetched and dropped.
"""

from __future__ import annotations

from typing import Any

import numpy as np

EXACT_BELOW = 50_000  # vectors; exact search stays fast (a few ms per query) below this


class InnerProductIndex:
    """FAISS is loaded only for an approximate (HNSW) index, not with this module."""

    def __init__(self, vectors: np.ndarray, exact_below: int = EXACT_BELOW) -> None:
        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self.kind = "exact" if len(self.vectors) < exact_below else "hnsw"
        self.index: Any = None
        if self.kind == "hnsw":
            from reelgraph.features.vector import build_index

            self.index = build_index("hnsw", self.vectors)

    def __len__(self) -> int:
        return len(self.vectors)

    def search(self, query: np.ndarray, k: int, allowed: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray]:
        """(items, scores) best first among ``allowed`` (bool per item); fewer than ``k``
        when fewer are allowed."""
        query = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
        n_allowed = int(allowed.sum())
        k = min(k, n_allowed)
        if k == 0:
            return np.empty(0, np.int64), np.empty(0, np.float32)
        if self.index is None:
            return _exact(self.vectors @ query[0], k, allowed)
        if n_allowed < len(self) // 2:
            ids = np.flatnonzero(allowed).astype(np.int64)
            params = self._params(ids)
            scores, items = self.index.search(query, k, params=params)
        else:
            fetch = min(len(self), k + len(self) - n_allowed)
            scores, items = self.index.search(query, fetch)
        keep = (items[0] >= 0) & allowed[np.maximum(items[0], 0)]
        return items[0][keep][:k], scores[0][keep][:k]

    def _params(self, ids: np.ndarray) -> Any:
        import faiss

        api: Any = faiss  # its type stubs lack the search-parameter classes
        return api.SearchParametersHNSW(sel=api.IDSelectorBatch(ids), efSearch=128)


def _exact(scores: np.ndarray, k: int, allowed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    scores = np.where(allowed, scores, -np.inf)
    top = np.argpartition(-scores, k - 1)[:k]
    top = top[np.argsort(-scores[top], kind="stable")]
    return top.astype(np.int64), scores[top]
