"""A workspace whose registry holds two versions of the unified recommender, trained on
the ml-latest-small slice (``trained_models``, once per run) with different seeds."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from redis_fixture import redis_url
from trained_models import recommenders

from reelgraph.core import Settings
from reelgraph.features.online import open_online_store
from reelgraph.features.ports import OnlineStore
from reelgraph.flows import Workspace

__all__ = ["recommenders", "redis_url"]


@pytest.fixture
def workspace(tmp_path: Path) -> Iterator[Workspace]:
    with Workspace.open(Settings.load(home=str(tmp_path / "home"), database_url="")) as ws:
        yield ws


@pytest.fixture
def online(tmp_path: Path) -> Iterator[OnlineStore]:
    store = open_online_store(f"sqlite:///{tmp_path / 'online.db'}")
    yield store
    store.close()
