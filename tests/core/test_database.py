"""The metadata ``Database``: one engine per URL, every registered package's migrations
applied on open, back-ends and migrations found through entry points."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from reelgraph.core import Database, InvalidInput, Settings, backend_for, home_folder
from reelgraph.core.migrations import config, version_locations

OWNERS = {"features", "flows", "graph", "media", "ops", "recsys"}


def test_one_engine_per_url_and_every_branch_at_its_head(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'meta.db'}"
    first, again = Database.open(url), Database.open(url)
    other = Database.open(f"sqlite:///{tmp_path / 'other.db'}")
    try:
        assert first.engine is again.engine and other.engine is not first.engine
        heads = set(ScriptDirectory.from_config(config()).get_heads())
        assert len(heads) >= len(OWNERS)  # at least one Alembic branch per package
        with first.engine.connect() as connection:
            assert set(MigrationContext.configure(connection).get_current_heads()) == heads
    finally:
        for database in (first, again, other):
            database.close()


def test_migrations_and_url_schemes_are_registered_by_their_packages() -> None:
    # every folder comes from an entry point: <package>/migrations/versions
    assert {p.parent.parent.name for p in version_locations()} == OWNERS
    assert backend_for("metadata", "sqlite:///x.db").__name__ == "SqliteGraphStore"
    assert backend_for("metadata", "postgresql://h/db").__name__ == "PostgresGraphStore"
    assert backend_for("online", "sqlite:///x.db").__name__ == "SqliteOnlineStore"
    with pytest.raises(InvalidInput, match="redis://"):
        backend_for("online", "memcached://localhost")


def test_a_workspace_opens_its_database_once_for_all_its_stores(tmp_path: Path) -> None:
    from reelgraph.flows import EventLog, Workspace

    with Workspace.open(Settings.load(home=str(tmp_path), database_url="")) as ws:
        events = EventLog(ws)
        try:
            engines = {
                id(ws.database.engine),
                id(ws.graph.store.database.engine),
                id(ws.runs.engine),
                id(events.engine),
            }
            assert len(engines) == 1
            assert ws.graph.store.url == ws.settings.metadata_url
        finally:
            events.close()


def test_only_the_owner_of_the_database_returns_its_connections(tmp_path: Path) -> None:
    """Closing a store built on a shared database leaves the engine's pool alone (other stores
    keep their connections); closing a graph opened from a URL, which owns it, empties it."""
    from reelgraph.flows import EventLog, Workspace
    from reelgraph.graph import Graph

    with Workspace.open(Settings.load(home=str(tmp_path), database_url="")) as ws:
        pool = ws.database.engine.pool
        EventLog(ws).close()
        Graph.open(ws.database).close()
        ws.runs.close()
        assert ws.database.engine.pool is pool  # dispose() would have replaced it
    url = f"sqlite:///{tmp_path / 'own.db'}"
    owned = Graph.open(url)
    engine = Database.open(url).engine  # the process's one engine for that URL
    pool = engine.pool
    owned.close()
    assert engine.pool is not pool


def test_a_default_folder_needs_the_settings(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="workspace's settings"):
        home_folder(None, "features", "offline")
    assert home_folder(Settings(home=tmp_path), "a", "b") == tmp_path / "a" / "b"
