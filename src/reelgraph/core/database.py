"""Engines for the metadata database, the same for every package that keeps tables there.

SQLite: WAL, a long busy timeout, and writers that take the lock up front (BEGIN IMMEDIATE),
so concurrent writers queue instead of deadlocking. PostgreSQL: psycopg 3, and writers that
take one transaction-scoped advisory lock, so read-then-write sequences (revision numbers,
cycle checks, claiming an event) never race. Readers are never blocked on either.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event

from reelgraph.core.urls import scheme_of

_BUSY_TIMEOUT_MS = 60_000
_WRITE = "reelgraph_write"
_WRITE_LOCK = 0x7267_6772  # "rggr"
_MMAP_BYTES = 4 << 30  # address space only; the OS page cache backs it
_CACHE_KIB = 64 << 10  # SQLite's own page cache per connection


def driver_url(url: str) -> str:
    """``postgresql://`` means psycopg 3 here, not SQLAlchemy's default psycopg2."""
    for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def is_sqlite(url: str) -> bool:
    return scheme_of(url) == "sqlite"


def open_engine(url: str) -> Engine:
    if is_sqlite(url):
        return _sqlite(url)
    engine = create_engine(driver_url(url), pool_pre_ping=True)

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        if conn.get_execution_options().get(_WRITE, False):
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_WRITE_LOCK})")

    return engine


def _sqlite(url: str) -> Engine:
    path = url.removeprefix("sqlite:///")
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 60})

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's begin event issue BEGIN itself (pysqlite's own is deferred).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        # Reads map the file instead of copying pages through read(): lineage walks jump
        # around the edge and node tables (benchmarks/graph_lineage.py: p50 -25%).
        cursor.execute(f"PRAGMA mmap_size={_MMAP_BYTES}")
        cursor.execute(f"PRAGMA cache_size=-{_CACHE_KIB}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        # A writer takes the lock up front; upgrading a read lock later could deadlock.
        immediate = conn.get_execution_options().get(_WRITE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def write_connection(engine: Engine) -> Connection:
    """A connection whose transactions hold the database's write lock from the start."""
    return engine.connect().execution_options(**{_WRITE: True})
