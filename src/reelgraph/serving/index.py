"""The item side of a model, searched by maximum inner product.

A request's score for an item is ``request_side . item_side`` (``recsys.model``), so the
top items are the request vector's nearest neighbours by inner product. Below
``exact_below`` items the search is exact: one matrix-vector product and a partial sort in
NumPy (as fast as FAISS's flat index for one query, ~60 us at 10k items, and it filters
with the canvas's mask directly). Above it, a FAISS HNSW index; items a canvas does not
allow are then handled two ways: a small allowed set (a category) restricts the search with an ID
selector; a few excluded items (what the user saw) are over-fetched and dropped.
"""

from __future__ import annotations

from typing import Any

import faiss
import numpy as np

from reelgraph.features.vector import EXACT_BELOW, build_index


class ItemIndex:
    def __init__(self, item_side: np.ndarray, exact_below: int = EXACT_BELOW) -> None:
        self.vectors = np.ascontiguousarray(item_side, dtype=np.float32)
        self.kind = "exact" if len(self.vectors) < exact_below else "hnsw"
        self.index: Any = build_index("hnsw", self.vectors) if self.kind == "hnsw" else None

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
            params = self._params(faiss.IDSelectorBatch(ids))
            scores, items = self.index.search(query, k, params=params)
        else:
            fetch = min(len(self), k + len(self) - n_allowed)
            scores, items = self.index.search(query, fetch)
        keep = (items[0] >= 0) & allowed[np.maximum(items[0], 0)]
        return items[0][keep][:k], scores[0][keep][:k]

    def _params(self, selector: Any) -> Any:
        api: Any = faiss  # its type stubs lack the search-parameter classes
        return api.SearchParametersHNSW(sel=selector, efSearch=128)


def _exact(scores: np.ndarray, k: int, allowed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    scores = np.where(allowed, scores, -np.inf)
    top = np.argpartition(-scores, k - 1)[:k]
    top = top[np.argsort(-scores[top], kind="stable")]
    return top.astype(np.int64), scores[top]
