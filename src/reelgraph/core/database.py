"""Engines for the metadata database, the same for every package that keeps tables there.

SQLite: WAL, a busy timeout, and writers that take the lock up front (BEGIN IMMEDIATE),
so concurrent writers queue instead of deadlocking. PostgreSQL: psycopg 3, and writers that
take one transaction-scoped advisory lock, so read-then-write sequences (revision numbers,
cycle checks, claiming an event) never race. Readers are never blocked on either.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import OperationalError

from reelgraph.core.errors import InvalidInput, Unavailable
from reelgraph.core.urls import scheme_of

# How long a writer waits for the write lock before it gives up with an error (SQLite's
# busy timeout, PostgreSQL's lock_timeout), and how long one PostgreSQL statement may run.
# Writes hold the lock for milliseconds to seconds; a bulk load of millions of rows is the
# longest. A PostgreSQL URL may set its own: ``?options=-c%20lock_timeout%3D5000``.
LOCK_TIMEOUT_MS = 30_000
STATEMENT_TIMEOUT_MS = 600_000
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


_ENGINES: dict[tuple[int, str], Engine] = {}
_ENGINES_LOCK = threading.Lock()


def shared_engine(url: str) -> Engine:
    """The process's one engine for ``url``, made on first use. Keyed by process too: a
    forked child must not reuse the pooled connections of its parent."""
    key = (os.getpid(), url)
    with _ENGINES_LOCK:
        if key not in _ENGINES:
            _ENGINES[key] = open_engine(url)
        return _ENGINES[key]


def open_engine(url: str) -> Engine:
    if is_sqlite(url):
        return _sqlite(url)
    engine = create_engine(driver_url(url), pool_pre_ping=True,
                           connect_args=_postgres_timeouts(url))

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        if conn.get_execution_options().get(_WRITE, False):
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_WRITE_LOCK})")

    return engine


def _postgres_timeouts(url: str) -> dict[str, str]:
    """Server-side limits for every session, unless the URL sets ``options`` itself."""
    if "options" in parse_qs(urlsplit(url).query):
        return {}
    return {"options": f"-c lock_timeout={LOCK_TIMEOUT_MS} "
                       f"-c statement_timeout={STATEMENT_TIMEOUT_MS}"}


def _sqlite(url: str) -> Engine:
    path = url.removeprefix("sqlite:///")
    if path and path != ":memory:":
        try:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InvalidInput(f"cannot create the folder {Path(path).parent} for the SQLite "
                               f"database ({exc.strerror})",
                               "choose a writable home folder (--home or REELGRAPH_HOME) or "
                               "fix its permissions") from None
    engine = create_engine(url, connect_args={"check_same_thread": False,
                                                "timeout": LOCK_TIMEOUT_MS / 1000})

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's begin event issue BEGIN itself (pysqlite's own is deferred).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={LOCK_TIMEOUT_MS}")
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


def unavailable(url: str, exc: OperationalError, action: str) -> Unavailable:
    """A transient database failure (nothing listening, a lock or statement timeout, a
    locked SQLite file) as a 503 to retry; ``Unavailable`` masks the URL's password."""
    reason = str(exc.orig or exc).strip().splitlines()[0] if str(exc.orig or exc) else "error"
    return Unavailable(f"the metadata database at {url} could not {action} ({reason})",
                       "retry shortly; if it persists, check that the database is running, "
                       "reachable and not locked by a long transaction")


def write_connection(engine: Engine) -> Connection:
    """A connection whose transactions hold the database's write lock from the start."""
    return engine.connect().execution_options(**{_WRITE: True})
