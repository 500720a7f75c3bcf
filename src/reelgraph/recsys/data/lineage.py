"""A dataset the recommender trains on, as a node of the lifecycle graph.

``rg://dataset/recsys/NAME`` carries what was loaded (users, items, interactions, time
range) and a fingerprint of it, so loading the same data again writes no new revision and
different data under the same name does. It is ``derived_from`` the file nodes it was read
from when the graph has them (the demo registers the bundled MovieLens CSV files as
``rg://dataset/movielens/FOLDER/FILE``), so impact analysis from a file reaches every model
trained on it.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from reelgraph.graph import Graph, NodeKey
from reelgraph.recsys.data.dataset import Dataset

NAMESPACE = "recsys"
FILES_NAMESPACE = "movielens"
AUTHOR = "reelgraph recsys"


def dataset_key(dataset: Dataset) -> NodeKey:
    return NodeKey("dataset", NAMESPACE, dataset.name)


def fingerprint(dataset: Dataset) -> str:
    digest = hashlib.sha256()
    log = dataset.interactions
    for array in (log.user, log.item, log.time):
        digest.update(np.ascontiguousarray(array).tobytes())
    for ids in (dataset.user_ids, dataset.item_ids, dataset.catalog.titles):
        digest.update("\x1f".join(ids).encode())
    return digest.hexdigest()


def file_uris(folder: Path) -> list[str]:
    """The graph URIs the files of a data folder are registered under."""
    return sorted(NodeKey("dataset", FILES_NAMESPACE, f"{folder.name}/{f.name}").uri
                  for f in folder.iterdir() if f.is_file())


def register_dataset(graph: Graph, dataset: Dataset, folder: Path | None = None) -> str:
    """Write (or find unchanged) the dataset's node; returns its URI."""
    times = dataset.interactions.time
    key = dataset_key(dataset)
    with graph.batch(author=AUTHOR) as b:
        b.add(key, owner="personalization", tags=["interactions", "recsys"],
              description=f"interaction log {dataset.describe()}",
              properties={"users": dataset.n_users, "items": dataset.n_items,
                          "interactions": len(dataset.interactions),
                          "categories": len(dataset.catalog.category_names),
                          "first_time": int(times.min()) if len(times) else None,
                          "last_time": int(times.max()) if len(times) else None,
                          "fingerprint": fingerprint(dataset)})
        for uri in file_uris(folder) if folder is not None else []:
            if graph.get(uri) is not None:
                b.link(key, "derived_from", uri)
    return key.uri
