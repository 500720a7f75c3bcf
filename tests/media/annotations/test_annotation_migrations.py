"""The media branch's migration goes down and up again on its own, on both back-ends."""

from __future__ import annotations

from alembic import command
from sqlalchemy import create_engine, inspect

from reelgraph.core import Database
from reelgraph.core.database import driver_url
from reelgraph.core.migrations import config
from reelgraph.media.annotations import Annotation, AnnotationStore, Producer

TABLES = {"rg_annotation", "rg_annotation_set", "rg_annotation_current"}


def test_media_branch_down_and_up(graph_url: str) -> None:
    store = AnnotationStore(Database.open(graph_url))
    store.put(Producer("shots/content-detector"), "asset", [Annotation("shot", 0, 10)])
    store.close()
    engine = create_engine(driver_url(graph_url))
    assert set(inspect(engine).get_table_names()) >= TABLES
    cfg = config()
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, "media@base")
    tables = set(inspect(engine).get_table_names())
    assert not TABLES & tables and {"rg_node", "rg_event"} <= tables  # other branches stay
    engine.dispose()
    store = AnnotationStore(Database.open(graph_url))  # upgrades again on open
    assert store.query() == []
    store.put(Producer("shots/content-detector"), "asset", [Annotation("shot", 0, 10)])
    assert [s.version for s in store.versions("asset")] == [1]
    store.close()
