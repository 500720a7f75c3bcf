"""Item vectors from the feature store, as one more input of the item tower.

The studio's title embeddings (``movielens/title_embedding`` in the demo) are a feature of
titles keyed by item id; the model reads them as a matrix in its dense item order. Items
without a value get a zero row (the model's ``vector`` layer then adds only its bias).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from reelgraph.core import InvalidInput
from reelgraph.features import FeatureCatalog
from reelgraph.flows import Workspace


@dataclass(frozen=True)
class ItemVectors:
    matrix: np.ndarray  # float32 (items, dim)
    uri: str  # the feature version read
    covered: int  # items that had a value


def read_item_vectors(ws: Workspace, feature: str, item_ids: Sequence[str]) -> ItemVectors:
    """The vector feature ``feature`` (NAMESPACE/NAME[@VERSION]) of every item."""
    catalog = FeatureCatalog.open(ws)
    try:
        resolved = catalog.resolve(feature)
        value = resolved.ref.value
        if value.get("kind") != "vector":
            raise InvalidInput(f"feature {resolved.ref.uri} holds {value.get('kind')} values, "
                               "not vectors", "name a vector feature (an embedding)")
        _, found = catalog.online(resolved, list(item_ids))
    finally:
        catalog.close()
    keys = resolved.keys(list(item_ids))
    matrix = np.zeros((len(item_ids), int(value["dim"])), dtype=np.float32)
    covered = 0
    for row, key in enumerate(keys):
        vector = found.get(key)
        if vector is not None:
            matrix[row] = vector
            covered += 1
    if covered == 0:
        raise InvalidInput(f"feature {resolved.ref.uri} has no value for any of the "
                           f"{len(item_ids):,} items",
                           "compute it first, e.g. `reelgraph features compute NAME --all "
                           "--file FEATURES.py`, or train without item vectors")
    return ItemVectors(matrix, resolved.ref.uri, covered)
