"""A workspace whose registry holds two versions of the unified recommender, trained on
the ml-latest-small slice (``recsys_samples``) with different seeds."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from recsys_samples import SMALL_CONFIG, small_dataset
from redis_fixture import redis_url

from reelgraph.core import Settings
from reelgraph.features.online import open_online_store
from reelgraph.features.ports import OnlineStore
from reelgraph.flows import Workspace
from reelgraph.recsys import UnifiedRecommender
from reelgraph.recsys.experiment import fit, prepare
from reelgraph.recsys.hyperparameters import TrainConfig

__all__ = ["redis_url"]


@pytest.fixture(scope="session")
def recommenders() -> tuple[UnifiedRecommender, UnifiedRecommender]:
    """Two briefly trained models of the slice (seeds 0 and 1)."""
    dataset = small_dataset()
    prepared = prepare(dataset, SMALL_CONFIG)
    first = fit(prepared, SMALL_CONFIG).recommender
    second_config = replace(SMALL_CONFIG, train=TrainConfig(epochs=1, negatives=512, seed=1))
    return first, fit(prepared, second_config).recommender


@pytest.fixture
def workspace(tmp_path: Path) -> Iterator[Workspace]:
    with Workspace.open(Settings.load(home=str(tmp_path / "home"), database_url="")) as ws:
        yield ws


@pytest.fixture
def online(tmp_path: Path) -> Iterator[OnlineStore]:
    store = open_online_store(f"sqlite:///{tmp_path / 'online.db'}")
    yield store
    store.close()
