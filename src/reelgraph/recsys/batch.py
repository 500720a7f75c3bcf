"""Requests and item features as the model's tensors.

Users the model does not know (no interactions before its cut-off, or absent from its
vocabulary) become user row 0, the learned "unknown user", but keep their history. Histories
are cut to the ``history`` most recent items. Missing inputs are flagged (``has_*``) so the
model can put its learned defaults in their place.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import torch

from reelgraph.recsys.freshness import RecentCounts
from reelgraph.recsys.items import ItemFeatures
from reelgraph.recsys.ragged import Ragged
from reelgraph.recsys.requests import Requests
from reelgraph.recsys.text import TextEncoder
from reelgraph.recsys.timeline import Timeline


def _csr(rows: np.ndarray, columns: np.ndarray, weights: np.ndarray, shape: tuple[int, int]
         ) -> torch.Tensor:
    """A sparse CSR tensor from (row, column, weight) triples, duplicates summed."""
    keys: np.ndarray
    values: np.ndarray
    if len(rows) == 0:  # a request without a history or a query: nothing to sort
        keys, values = np.empty(0, np.int64), np.empty(0, np.float64)
    else:
        keys, inverse = np.unique(rows.astype(np.int64) * shape[1] + columns,
                                  return_inverse=True)
        values = np.bincount(inverse.reshape(-1), weights=weights, minlength=len(keys))
    crow = np.zeros(shape[0] + 1, dtype=np.int64)
    np.cumsum(np.bincount(keys // shape[1], minlength=shape[0]), out=crow[1:])
    with warnings.catch_warnings():  # "sparse CSR support is in beta": we use only @
        warnings.simplefilter("ignore", UserWarning)
        return torch.sparse_csr_tensor(
            torch.from_numpy(crow), torch.from_numpy(keys % shape[1]),
            torch.from_numpy(values.astype(np.float32)), shape, check_invariants=False)


class Bag:
    """A ragged array of table rows as a sparse averaging matrix (rows x table); its
    transpose is built only when a gradient needs it (never when serving). The mean of each
    row's embeddings is then one sparse-dense product and so is its gradient, far cheaper
    on CPU than ``nn.EmbeddingBag``'s sort-based backward pass. An empty row gives a zero
    vector."""

    def __init__(self, rows: np.ndarray, values: np.ndarray, weights: np.ndarray,
                 shape: tuple[int, int]) -> None:
        self._triples = (rows, values, weights)
        self.shape = shape
        self.matrix = _csr(rows, values, weights, shape)  # (rows, width)

    @property
    def triples(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(row, table row, weight) of every entry."""
        return self._triples

    @cached_property
    def transpose(self) -> torch.Tensor:  # (width, rows)
        rows, values, weights = self._triples
        return _csr(values, rows, weights, (self.shape[1], self.shape[0]))

    @classmethod
    def of(cls, ragged: Ragged, width: int) -> Bag:
        lengths = ragged.lengths
        rows = ragged.row_ids
        values = np.asarray(ragged.values, dtype=np.int64)
        weights = 1.0 / np.maximum(lengths[rows], 1)
        return cls(rows, values, weights, (len(ragged), width))


class _SparseMean(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, bag: Bag, table: torch.Tensor) -> torch.Tensor:
        ctx.bag = bag
        return bag.matrix @ table

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[None, torch.Tensor]:
        return None, ctx.bag.transpose @ grad


def mean_of(bag: Bag, table: torch.Tensor) -> torch.Tensor:
    """(rows, dim): the mean of each row's rows of ``table``."""
    result: torch.Tensor = _SparseMean.apply(bag, table)  # type: ignore[no-untyped-call]
    return result


@dataclass(frozen=True)
class ItemInputs:
    categories: Bag
    tags: Bag
    title: Bag
    category_matrix: torch.Tensor  # bool (categories, items)
    vectors: torch.Tensor | None
    popularity: torch.Tensor | None = None

    @classmethod
    def of(cls, features: ItemFeatures) -> ItemInputs:
        def tensor(array: np.ndarray | None) -> torch.Tensor | None:
            return None if array is None else torch.from_numpy(array)

        return cls(Bag.of(features.categories, max(features.n_categories, 1)),
                   Bag.of(features.tags, max(features.n_tags, 1)),
                   Bag.of(features.title_grams, features.buckets),
                   torch.from_numpy(features.category_matrix), tensor(features.vectors),
                   tensor(features.popularity))


@dataclass(frozen=True)
class RequestInputs:
    canvas: torch.Tensor  # int64 (B,)
    user: torch.Tensor  # int64: 1 + dense user id, 0 for a user the model does not know
    has_user: torch.Tensor  # bool
    history: Bag  # over items
    has_history: torch.Tensor
    source: torch.Tensor  # int64 item (0 where absent)
    has_source: torch.Tensor
    category: torch.Tensor
    has_category: torch.Tensor
    query: Bag  # over n-gram buckets
    has_query: torch.Tensor
    dense: torch.Tensor  # float32 (B, features)
    dense_mask: torch.Tensor  # bool
    time: np.ndarray | None = None  # int64 unix seconds, with ``fresh``
    fresh: RecentCounts | None = None  # item popularity as of ``time`` (recsys.freshness)

    def popularity(self, columns: torch.Tensor | None = None) -> torch.Tensor | None:
        """(B, items or columns, windows): each item's popularity as of each request."""
        if self.fresh is None or self.time is None:
            return None
        at = None if columns is None else columns.numpy()
        return torch.from_numpy(self.fresh.features(self.time, at))

    def __len__(self) -> int:
        return len(self.canvas)


def _long(array: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.asarray(array, dtype=np.int64))


class Featurizer:
    """Turns ``Requests`` into ``RequestInputs`` against one timeline and user vocabulary."""

    def __init__(self, timeline: Timeline, known_users: np.ndarray, encoder: TextEncoder,
                 history: int, n_items: int, fresh: RecentCounts | None = None) -> None:
        self.timeline = timeline
        self.n_items = n_items
        self.known_users = known_users
        self.encoder = encoder
        self.history = history
        self.fresh = fresh

    def on(self, timeline: Timeline) -> Featurizer:
        """Histories from ``timeline``; popularity still from every user's events."""
        return Featurizer(timeline, self.known_users, self.encoder, self.history, self.n_items,
                          self.fresh)

    def __call__(self, requests: Requests) -> RequestInputs:
        user = requests.user.astype(np.int64)
        has_user = user >= 0
        # A dense id past the vocabulary (see UnifiedRecommender) is a user never seen.
        inside = has_user & (user < len(self.known_users))
        known = inside & self.known_users[np.clip(user, 0, len(self.known_users) - 1)]
        history = requests.histories(self.timeline, self.history)
        query = self.encoder.encode(requests.query)
        return RequestInputs(
            canvas=_long(requests.canvas),
            user=_long(np.where(known, user + 1, 0)),
            has_user=torch.from_numpy(has_user),
            history=Bag.of(history, self.n_items),
            has_history=torch.from_numpy(history.lengths > 0),
            source=_long(np.maximum(requests.source, 0)),
            has_source=torch.from_numpy(requests.source >= 0),
            category=_long(np.maximum(requests.category, 0)),
            has_category=torch.from_numpy(requests.category >= 0),
            query=Bag.of(query, self.encoder.buckets),
            has_query=torch.from_numpy(query.lengths > 0),
            dense=torch.from_numpy(np.ascontiguousarray(requests.dense, dtype=np.float32)),
            dense_mask=torch.from_numpy(np.ascontiguousarray(requests.dense_mask)),
            time=requests.time, fresh=self.fresh,
        )
