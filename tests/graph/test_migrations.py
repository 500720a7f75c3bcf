"""The shipped Alembic migrations go down and up again cleanly on both back-ends."""

from __future__ import annotations

from alembic import command
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
