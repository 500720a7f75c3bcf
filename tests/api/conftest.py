"""An API client over the real graph of the ``graph`` fixture (SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from graph_api_data import TOKEN, MakeClient, seed

from reelgraph.api import create_app
from reelgraph.core import Settings
from reelgraph.graph import Graph


@pytest.fixture
def make_client(graph: Graph, tmp_path: Path) -> MakeClient:
    def make(api_token: str = TOKEN, open_reads: bool = True) -> TestClient:
        settings = Settings(home=tmp_path, api_token=api_token, open_reads=open_reads)
        return TestClient(create_app(settings, graph))

    return make


@pytest.fixture
def client(make_client: MakeClient) -> TestClient:
    return make_client()


@pytest.fixture
def seeded(graph: Graph) -> Graph:
    seed(graph)
    return graph
