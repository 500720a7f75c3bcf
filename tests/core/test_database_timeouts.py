"""Writers never wait or run without bound: PostgreSQL sessions get a lock and a statement
timeout (a URL may set its own), SQLite a busy timeout of the same length."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from reelgraph.core.database import LOCK_TIMEOUT_MS, open_engine


@pytest.mark.postgres
def test_postgres_sessions_have_lock_and_statement_timeouts(postgres_url: str) -> None:
    engine = open_engine(postgres_url)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SHOW lock_timeout")).scalar() == "30s"
            assert conn.execute(text("SHOW statement_timeout")).scalar() == "10min"
    finally:
        engine.dispose()
    own = open_engine(postgres_url + "?options=-c%20lock_timeout%3D1500")
    try:
        with own.connect() as conn:
            assert conn.execute(text("SHOW lock_timeout")).scalar() == "1500ms"
    finally:
        own.dispose()


def test_sqlite_waits_for_the_write_lock_as_long(tmp_path: Path) -> None:
    engine = open_engine(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        with engine.connect() as conn:
            assert conn.execute(text("PRAGMA busy_timeout")).scalar() == LOCK_TIMEOUT_MS
    finally:
        engine.dispose()
