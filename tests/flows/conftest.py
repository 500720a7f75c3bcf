from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from reelgraph.core import Settings
from reelgraph.flows import Workspace


@pytest.fixture
def workspace(tmp_path: Path, graph_url: str) -> Iterator[Workspace]:
    """A workspace on a fresh metadata database (SQLite and PostgreSQL) and artifact dir."""
    ws = Workspace.open(Settings.load(home=str(tmp_path), database_url=graph_url))
    try:
        yield ws
    finally:
        ws.close()


@pytest.fixture
def sqlite_workspace(tmp_path: Path) -> Iterator[Workspace]:
    ws = Workspace.open(Settings.load(home=str(tmp_path), database_url=""))
    try:
        yield ws
    finally:
        ws.close()
