"""Fixtures for the match-cutting tests: a fresh home per test and the synthetic controlled
set (``matchcut_samples``), written once per session."""

from __future__ import annotations

from pathlib import Path

import pytest
from matchcut_samples import ControlledShot, write_set

from reelgraph.core import Settings

CONTROLLED_TITLES = 6


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings.load(home=str(tmp_path / "home"), database_url="")


@pytest.fixture(scope="session")
def controlled(tmp_path_factory: pytest.TempPathFactory
               ) -> tuple[list[Path], list[ControlledShot]]:
    return write_set(tmp_path_factory.mktemp("controlled"), CONTROLLED_TITLES)
