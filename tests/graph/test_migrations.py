"""The shipped Alembic migrations go down and up again cleanly on both back-ends."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from alembic import command
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from snapshots.make_snapshot import MODEL, RATINGS
from sqlalchemy import create_engine, inspect

from reelgraph.core.database import driver_url
from reelgraph.core.migrations import config
from reelgraph.graph import Graph


def test_downgrade_and_upgrade_round_trip(graph_url: str) -> None:
    Graph.open(graph_url).close()  # creates the schema at head
    engine = create_engine(driver_url(graph_url))
    assert {"rg_node", "rg_node_rev", "rg_edge"} <= set(inspect(engine).get_table_names())
    cfg = config()
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, "base")
    assert "rg_node" not in inspect(engine).get_table_names()
    engine.dispose()
    graph = Graph.open(graph_url)  # upgrades again on open
    graph.add("rg://dataset/movielens/ratings")
    assert graph.show("rg://dataset/movielens/ratings").revision == 1
    graph.close()


def _open_and_close(url: str) -> None:
    Graph.open(url).close()


@pytest.mark.slow  # separate processes, each importing the stack
def test_processes_opening_a_new_database_at_once_migrate_it_once(graph_url: str) -> None:
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    openers = [context.Process(target=_open_and_close, args=(graph_url,)) for _ in range(4)]
    for process in openers:
        process.start()
    for process in openers:
        process.join(timeout=120)
    assert [p.exitcode for p in openers] == [0, 0, 0, 0]
    graph = Graph.open(graph_url)
    graph.add("rg://dataset/movielens/ratings")
    graph.close()


SNAPSHOTS = sorted((Path(__file__).parents[1] / "support" / "snapshots").glob("*.db"))


@pytest.mark.parametrize("snapshot", SNAPSHOTS, ids=[s.stem for s in SNAPSHOTS])
def test_a_stored_database_opens_with_the_current_code(snapshot: Path, tmp_path: Path) -> None:
    """Databases written by earlier versions (``tests/support/snapshots``) are migrated on
    open to every package's head, and keep what they held."""
    url = f"sqlite:///{shutil.copy(snapshot, tmp_path / snapshot.name)}"
    graph = Graph.open(url)
    try:
        assert [n.revision for n in graph.history(RATINGS)] == [1, 2]
        assert graph.show(MODEL).properties == {"ndcg@10": 0.25}
        assert [(d, e.kind, n.uri) for d, e, n in graph.edges(MODEL)] == [
            ("out", "trained_on", RATINGS)]
        graph.add(RATINGS, owner="data", description="a third revision")
        assert graph.show(RATINGS).revision == 3
    finally:
        graph.close()
    engine = create_engine(driver_url(url))
    with engine.connect() as connection:
        current = set(MigrationContext.configure(connection).get_current_heads())
    engine.dispose()
    assert current == set(ScriptDirectory.from_config(config()).get_heads())
