"""A workspace whose registry holds two versions of the unified recommender, trained on
the ml-latest-small slice (``recsys_samples``) with different seeds."""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from recsys_samples import SMALL_CONFIG, small_dataset

from reelgraph.core import Settings
from reelgraph.features.online import open_online_store
from reelgraph.features.ports import OnlineStore
from reelgraph.flows import Flow, Runner, Workspace
from reelgraph.flows.registry import ModelRegistry
from reelgraph.recsys import MODEL, UnifiedRecommender
from reelgraph.recsys.experiment import fit, prepare
from reelgraph.recsys.hyperparameters import TrainConfig

publish = Flow("publish-recommender", namespace="personalization", params={"path": ""},
               owner="personalization")


@publish.step
def model(path: str) -> object:
    return pickle.loads(Path(path).read_bytes())


@pytest.fixture(scope="session")
def recommenders() -> tuple[UnifiedRecommender, UnifiedRecommender]:
    """Two briefly trained models of the slice (seeds 0 and 1)."""
    dataset = small_dataset()
    prepared = prepare(dataset, SMALL_CONFIG)
    first = fit(prepared, SMALL_CONFIG).recommender
    second_config = replace(SMALL_CONFIG, train=TrainConfig(epochs=1, negatives=512, seed=1))
    return first, fit(prepared, second_config).recommender


def register(ws: Workspace, recommender: UnifiedRecommender, folder: Path,
             promote: bool = True) -> int:
    """Register the model as a version (through a one-step run) and maybe promote it."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"bundle-{len(list(folder.iterdir()))}.pkl"
    path.write_bytes(pickle.dumps(recommender.to_bundle()))
    run = Runner(ws).run(publish, {"path": str(path)})
    assert run.status == "succeeded", run.error
    registry = ModelRegistry(ws)
    number = registry.register(MODEL, run.id, step="model", who="test")
    if promote:
        registry.promote(MODEL, number, "staging", who="test")
        registry.promote(MODEL, number, "production", who="test")
    return number


@pytest.fixture
def workspace(tmp_path: Path) -> Iterator[Workspace]:
    with Workspace.open(Settings.load(home=str(tmp_path / "home"), database_url="")) as ws:
        yield ws


@pytest.fixture
def online(tmp_path: Path) -> Iterator[OnlineStore]:
    store = open_online_store(f"sqlite:///{tmp_path / 'online.db'}")
    yield store
    store.close()
