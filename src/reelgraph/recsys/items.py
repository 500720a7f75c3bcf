"""The item tower's inputs: content features of every item, as known at a time.

Categories, the tags assigned before ``as_of`` (point-in-time correct), the title's hashed
character n-grams, optionally a precomputed vector per item (e.g. the demo's sentence
embedding of titles, ``movielens/title_embedding`` in the feature store) and, given the
timeline, the item's popularity before ``as_of``: log1p of its interaction count, all-time
and with each of ``HALF_LIVES_DAYS``' exponential decay. The decayed counts say what is
popular lately, which predicts the weeks after ``as_of`` far better than the all-time count
in a catalog that spans decades (the 7-day one is what recent popularity ranks by). With a
``PriorConfig``, also EASE's weights as of ``as_of``, factored (``recsys.prior``). They are
fixed at ``as_of`` (the split's cut-off), so the
item side stays one static matrix per model.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reelgraph.core import InvalidInput
from reelgraph.recsys.data import Catalog
from reelgraph.recsys.prior import ease_factors
from reelgraph.recsys.ragged import Ragged
from reelgraph.recsys.text import TextEncoder, plain_title
from reelgraph.recsys.timeline import Timeline

DAY = 86_400


@dataclass(frozen=True)
class PriorConfig:
    """The EASE prior's factors (``recsys.prior``): rank 0 for none."""

    rank: int = 0
    l2: float = 200.0
    max_items: int = 5000

HALF_LIVES_DAYS = (7.0, 30.0, 90.0, 365.0)


def popularity(timeline: Timeline, as_of: int, n_items: int,
               half_lives_days: tuple[float, ...] = HALF_LIVES_DAYS) -> np.ndarray:
    """float32 (items, 1 + half-lives): log1p of the all-time and of each decayed count of
    the item's interactions strictly before ``as_of``, each column scaled to 0..1 (raw
    log counts next to small embeddings made training unstable)."""
    before = timeline.times < as_of
    items, age = timeline.items[before], (as_of - timeline.times[before]) / DAY
    weights = [np.ones(len(items))] + [0.5 ** (age / h) for h in half_lives_days]
    logs: np.ndarray = np.log1p(np.stack([np.bincount(items, weights=w, minlength=n_items)
                                          for w in weights], axis=1))
    scaled: np.ndarray = logs / np.maximum(logs.max(axis=0, initial=0.0), 1e-12)
    return scaled.astype(np.float32)


@dataclass(frozen=True)
class ItemFeatures:
    categories: Ragged
    tags: Ragged
    title_grams: Ragged
    category_matrix: np.ndarray  # bool (categories, items)
    n_tags: int
    buckets: int  # the n-gram encoder's
    vectors: np.ndarray | None = None  # float32 (items, k)
    popularity: np.ndarray | None = None  # float32 (items, features), see ``popularity``
    prior: tuple[np.ndarray, np.ndarray] | None = None  # EASE factors, see ``recsys.prior``

    @property
    def n_items(self) -> int:
        return len(self.categories)

    @property
    def n_categories(self) -> int:
        return len(self.category_matrix)

    @classmethod
    def build(cls, catalog: Catalog, as_of: int, encoder: TextEncoder,
              vectors: np.ndarray | None = None, timeline: Timeline | None = None,
              prior: PriorConfig | None = None) -> ItemFeatures:
        n_items = len(catalog.titles)
        if vectors is not None and (vectors.ndim != 2 or len(vectors) != n_items):
            raise InvalidInput(f"item vectors have shape {vectors.shape}, not ({n_items}, k)",
                               "give one vector per catalog item, in dense item id order")
        return cls(catalog.categories, catalog.tags_before(as_of),
                   encoder.encode([plain_title(t) for t in catalog.titles]),
                   catalog.category_matrix, len(catalog.tag_names), encoder.buckets,
                   None if vectors is None else vectors.astype(np.float32),
                   None if timeline is None else popularity(timeline, as_of, n_items),
                   None if timeline is None or prior is None or prior.rank <= 0
                   else ease_factors(timeline, as_of, n_items, prior.rank, prior.l2,
                                     prior.max_items))
