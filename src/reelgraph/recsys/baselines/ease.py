"""EASE (Steck, WWW 2019): a closed-form item-item linear model, a strong classical baseline.

B = I - P diag(1 / diag(P)), P = (X^T X + lambda I)^-1, over the binary user x item matrix X
of interactions before the cut-off, restricted to the ``max_items`` most popular items (the
inverse is cubic in them). A user's scores are their history's row of X times B; a related
request's are its source item's row of B. Items outside the model, and ties, fall back to
popularity (scaled to a tie-break).
"""

from __future__ import annotations

import numpy as np

from reelgraph.recsys.requests import Requests
from reelgraph.recsys.timeline import Timeline

TIE_BREAK = 1e-6


class Ease:
    def __init__(self, weights: np.ndarray, modelled: np.ndarray, popularity: np.ndarray,
                 timeline: Timeline) -> None:
        self.weights = weights  # float32 (m, m)
        self.modelled = modelled  # item id of each of the m rows
        self.column = np.full(len(popularity), -1, dtype=np.int64)
        self.column[modelled] = np.arange(len(modelled))
        self.tie_break = TIE_BREAK * popularity / max(float(popularity.max()), 1.0)
        self.timeline = timeline

    @classmethod
    def fit(cls, timeline: Timeline, cutoff: int, n_items: int, l2: float = 200.0,
            max_items: int = 5000) -> Ease:
        train = timeline.times < cutoff
        users, items = timeline.users[train], timeline.items[train]
        popularity = np.bincount(items, minlength=n_items).astype(np.float32)
        modelled = np.sort(np.argsort(-popularity, kind="stable")[:max_items])
        modelled = modelled[popularity[modelled] > 0]
        column = np.full(n_items, -1, dtype=np.int64)
        column[modelled] = np.arange(len(modelled))
        keep = column[items] >= 0
        x = np.zeros((timeline.n_users, len(modelled)), dtype=np.float64)
        x[users[keep], column[items[keep]]] = 1.0
        gram = x.T @ x
        gram[np.diag_indices_from(gram)] += l2
        p = np.linalg.inv(gram)
        b = p / (-np.diag(p))
        b[np.diag_indices_from(b)] = 0.0
        return cls(b.astype(np.float32), modelled, popularity, timeline)

    def scores(self, requests: Requests) -> np.ndarray:
        n = len(requests)
        x = np.zeros((n, len(self.modelled)), dtype=np.float32)
        history = requests.histories(self.timeline)
        columns = self.column[history.values]
        rows = history.row_ids[columns >= 0]
        x[rows, columns[columns >= 0]] = 1.0
        source = np.where(requests.source >= 0, self.column[np.maximum(requests.source, 0)], -1)
        has = np.flatnonzero(source >= 0)
        x[has, source[has]] = 1.0
        scores = np.tile(self.tie_break, (n, 1))
        scores[:, self.modelled] += x @ self.weights
        return scores
