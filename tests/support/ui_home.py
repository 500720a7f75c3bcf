"""A demo-like reelgraph home for the browser tests and ``benchmarks/ui.py``, built in
seconds from the demo's fast parts on real data:

* the demo's catalog stage: the bundled MovieLens files through the file source adapter,
  the two-domain catalog (``reelgraph.demo.catalog``) and derived links;
* the demo's paved-road model (PureSVD, trained as a flow, registered and promoted through
  its gates), plus a second version of it left unstaged for the UI to promote;
* a small unified recommender (the recsys tests' slice and config), promoted to production;
* a genre-vector feature of the titles, replicated online and to the vector index;
* one bundled clip through the media pipeline's trigger.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import quote

import numpy as np
from recsys_samples import SMALL_CONFIG, small_dataset
from serving_samples import register as register_recommender

from reelgraph.core import Settings
from reelgraph.demo import catalog, default_data_dir
from reelgraph.demo.model import MODEL, train_and_promote
from reelgraph.features import EntityType, FeatureSet, FeatureStore, Vector
from reelgraph.flows import Worker, Workspace
from reelgraph.flows.registry import ModelRegistry
from reelgraph.graph import Batch
from reelgraph.graph.adapters import FileDatasetSource, Ingestor, ThinEvent
from reelgraph.media.pipeline import ingest_flow, register
from reelgraph.recsys.experiment import fit, prepare
from reelgraph.recsys.hyperparameters import TrainConfig
from reelgraph.recsys.tasks import TaskConfig

TOKEN = "ui-test-token-0123456789"
CLIP = "friday.mp4"
GENRES = "movielens/title_genres"
TITLES = 300  # titles whose genre vector is computed
# Smaller still than the recsys tests' config: the UI needs a served answer, not a good one.
RECOMMENDER = replace(SMALL_CONFIG, train=TrainConfig(epochs=1, negatives=128),
                      tasks=TaskConfig(max_train=300, max_eval=50, catalog_queries=1))


@dataclass(frozen=True)
class UiHome:
    home: Path
    model: str  # the PureSVD model's registry name
    unstaged: int  # its version left in stage none
    clip_sha256: str

    def settings(self) -> Settings:
        return Settings.load(home=str(self.home), database_url="", api_token=TOKEN)


def page_routes(home: UiHome) -> dict[str, str]:
    """The UI's pages over this home's data, by name (the browser tests' screenshots and
    ``benchmarks/ui.py`` both visit these; each adds its own)."""
    ranker = quote(catalog.RANKER_V2, safe="")
    return {
        "search": "search?q=ranker",
        "node": f"node?uri={ranker}",
        "lineage": f"lineage?uri={ranker}",
        "runs": "runs",
        "models": "models",
        "model": f"models?name={quote(home.model, safe='')}",
        "features": "features",
        "feature": "features?name=movielens%2Ftitle_genres",
        "media": "media",
        "asset": f"media?asset={home.clip_sha256}",
        "recommend": "recommend",
    }


def _catalog(ws: Workspace, data_dir: Path) -> None:
    source = FileDatasetSource(data_dir, catalog.DATA_NAMESPACE, owner="data-platform",
                               source="examples-data")
    ingestor = Ingestor(ws.graph, [source])
    for key in source.list_ids():
        if key.startswith(f"{catalog.RELEASE}/"):
            ingestor.handle(ThinEvent("examples-data", key))
    batch = Batch("ui tests")
    catalog.declare(batch)
    ws.graph.apply(batch.changes)
    ws.graph.derive()


def genre_features(movies: Path) -> FeatureSet:
    with movies.open(newline="", encoding="utf-8") as f:
        genres = {row["movieId"]: row["genres"].split("|") for row in csv.DictReader(f)}
    names = sorted({g for gs in genres.values() for g in gs})
    features = FeatureSet("movielens")

    @features.feature(entity=EntityType("title", int), value=Vector(len(names)), online=True,
                      vector=True, reads=[catalog.MOVIES],
                      description="one-hot genres of a title, unit length")
    def title_genres(keys: list[str]) -> dict[str, np.ndarray]:
        out = {}
        for key in keys:
            v = np.array([g in genres[key] for g in names], np.float32)
            out[key] = v / max(float(np.linalg.norm(v)), 1.0)
        return out

    return features


def _features(ws: Workspace, data_dir: Path) -> None:
    movies = data_dir / catalog.RELEASE / "movies.csv"
    with movies.open(newline="", encoding="utf-8") as f:
        ids = [int(row["movieId"]) for row, _ in zip(csv.DictReader(f), range(TITLES),
                                                      strict=False)]
    store = FeatureStore(ws, [genre_features(movies)])
    try:
        store.get_or_compute(GENRES, ids)
    finally:
        store.close()


def _media(ws: Workspace, data_dir: Path) -> str:
    registered = register(ws, [data_dir / "video" / CLIP])
    worker = Worker(ws, [ingest_flow()], backoff_s=0, max_attempts=1)
    try:
        worker.run_once()
    finally:
        worker.close()
    return registered.assets[0].checksum


def build(home: Path) -> UiHome:
    data_dir = default_data_dir()
    settings = Settings.load(home=str(home), database_url="", api_token=TOKEN)
    with Workspace.open(settings) as ws:
        _catalog(ws, data_dir)
        trained = train_and_promote(ws, data_dir)
        registry = ModelRegistry(ws)
        unstaged = registry.register(MODEL, trained.run.id, step="puresvd",
                                     metrics=trained.version.metrics, owner="personalization",
                                     description="the same factors, registered again",
                                     who="ui tests")
        prepared = prepare(small_dataset(), RECOMMENDER)
        register_recommender(ws, fit(prepared, RECOMMENDER).recommender, home / "bundles")
        _features(ws, data_dir)
        clip = _media(ws, data_dir)
    return UiHome(home, MODEL, unstaged, clip)
