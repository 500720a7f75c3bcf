"""The item tower's inputs: content features of every item, as known at a time.

Categories, the tags assigned before ``as_of`` (point-in-time correct), the title's hashed
character n-grams, and optionally a precomputed vector per item (e.g. the demo's sentence
embedding of titles, ``movielens/title_embedding`` in the feature store).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reelgraph.core.errors import InvalidInput
from reelgraph.recsys.data import Catalog
from reelgraph.recsys.ragged import Ragged
from reelgraph.recsys.text import TextEncoder, plain_title


@dataclass(frozen=True)
class ItemFeatures:
    categories: Ragged
    tags: Ragged
    title_grams: Ragged
    category_matrix: np.ndarray  # bool (categories, items)
    n_tags: int
    buckets: int  # the n-gram encoder's
    vectors: np.ndarray | None = None  # float32 (items, k)

    @property
    def n_items(self) -> int:
        return len(self.categories)

    @property
    def n_categories(self) -> int:
        return len(self.category_matrix)

    @classmethod
    def build(cls, catalog: Catalog, as_of: int, encoder: TextEncoder,
              vectors: np.ndarray | None = None) -> ItemFeatures:
        n_items = len(catalog.titles)
        if vectors is not None and (vectors.ndim != 2 or len(vectors) != n_items):
            raise InvalidInput(f"item vectors have shape {vectors.shape}, not ({n_items}, k)",
                               "give one vector per catalog item, in dense item id order")
        return cls(catalog.categories, catalog.tags_before(as_of),
                   encoder.encode([plain_title(t) for t in catalog.titles]),
                   catalog.category_matrix, len(catalog.tag_names), encoder.buckets,
                   None if vectors is None else vectors.astype(np.float32))
