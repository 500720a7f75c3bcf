"""SQLite online store: one file, WAL, one table keyed (entity key, feature slug).

Keyed by entity first because serving reads several features of one entity: they sit side
by side, one B-tree seek and a short range scan, filtered in Python (an ``IN`` list over the
features would make SQLite build a temporary table per statement, which costs more than the
read). A second index by feature serves ``keys``, ``delete`` and replica checks.

The hot path is the stdlib ``sqlite3`` driver with its statement cache (no SQLAlchemy):
a one-key read is one cached prepared statement; batch reads go in fixed-size ``IN``
chunks so the same few statements are reused. Each thread has its own connection (WAL lets
readers run beside the one writer); writes are one ``BEGIN IMMEDIATE`` transaction each.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from reelgraph.core import InvalidInput
from reelgraph.features.online.codec import (
    Stored,
    decode,
    decoder,
    encode,
    many_decoder,
    value_type_of,
)
from reelgraph.features.ports import FeatureRef

_ROWS_OF_KEY = "SELECT key, feature, value FROM online_by_key WHERE key = ?"
_ROWS_OF_KEYS = "SELECT key, feature, value FROM online_by_key WHERE key IN ({})"
_MMAP_BYTES = 1 << 30  # address space only; pages come from the OS cache
_CACHE_KIB = 64 * 1024
_CHUNK = 500  # keys per IN (...) read or per DELETE batch; well under SQLite's variable limit
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS online_by_key ("
    " key TEXT NOT NULL, feature TEXT NOT NULL, value BLOB,"  # BLOB affinity: kept as given
    " PRIMARY KEY (key, feature)) WITHOUT ROWID",
    "CREATE INDEX IF NOT EXISTS online_by_feature ON online_by_key (feature, key)",
    # Staged generations: written beside the live rows, invisible to reads until ``publish``
    # moves them in, in one transaction; ``deleted`` marks a key the generation removes.
    "CREATE TABLE IF NOT EXISTS online_staged ("
    " write_id TEXT NOT NULL, feature TEXT NOT NULL, key TEXT NOT NULL, value BLOB,"
    " deleted INTEGER NOT NULL, PRIMARY KEY (feature, write_id, key)) WITHOUT ROWID",
)


def path_of(url: str) -> Path:
    prefix = "sqlite:///"
    if not url.startswith(prefix) or len(url) == len(prefix):
        raise InvalidInput(f"{url!r} is not a SQLite file URL",
                           "use sqlite:///relative/path.db or sqlite:////absolute/path.db")
    return Path(url[len(prefix):]).expanduser()


class SqliteOnlineStore:
    def __init__(self, url: str) -> None:
        self.path = path_of(url)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._plans: dict[tuple[str, ...], _ReadPlan] = {}
        with self._write() as conn:
            for statement in _SCHEMA:
                conn.execute(statement)

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            # Autocommit mode: reads take no transaction; writes open one explicitly.
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False,
                                   cached_statements=256)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")  # durable at checkpoints; WAL keeps it safe
            conn.execute("PRAGMA busy_timeout=30000")
            # Reads are the hot path: map the file (no read() syscall per page) and keep
            # more pages cached than SQLite's 2 MB default.
            conn.execute(f"PRAGMA mmap_size={_MMAP_BYTES}")
            conn.execute(f"PRAGMA cache_size=-{_CACHE_KIB}")
            self._local.conn = conn
            with self._lock:
                self._connections.append(conn)
        return conn

    def _write(self) -> _Transaction:
        return _Transaction(self._conn())

    def put(self, feature: FeatureRef, values: dict[str, Any]) -> None:
        value_type = value_type_of(feature)
        # Encode (and so check) every value before the transaction: one bad value stores none.
        rows = [(feature.slug, key, encode(feature, value_type, key, value))
                for key, value in values.items()]
        with self._write() as conn:
            conn.executemany(
                "INSERT INTO online_by_key (feature, key, value) VALUES (?, ?, ?) "
                "ON CONFLICT (feature, key) DO UPDATE SET value = excluded.value", rows)

    def get(self, feature: FeatureRef, keys: Sequence[str]) -> dict[str, Any]:
        value_type = value_type_of(feature)
        conn = self._conn()
        found: dict[str, Any] = {}
        if len(keys) == 1:
            row = conn.execute("SELECT value FROM online_by_key WHERE feature = ? AND key = ?",
                               (feature.slug, keys[0])).fetchone()
            if row is not None:
                found[keys[0]] = decode(value_type, row[0])
            return found
        for chunk in _chunks(keys):
            marks = ",".join("?" * len(chunk))
            rows: list[tuple[str, Stored]] = conn.execute(
                f"SELECT key, value FROM online_by_key WHERE feature = ? AND key IN ({marks})",
                (feature.slug, *chunk)).fetchall()
            for key, stored in rows:
                found[key] = decode(value_type, stored)
        return found

    def read(self, features: Sequence[FeatureRef], keys: Sequence[str]
             ) -> list[dict[str, Any]]:
        """Several features of the same keys: each key's rows in one range scan."""
        plan = self._plan(features)
        found: list[dict[str, Any]] = [{} for _ in features]
        conn = self._conn()
        if len(keys) == 1:  # the serving hot path: no grouping, one decode per value
            for key, slug, stored in conn.execute(_ROWS_OF_KEY, (keys[0],)):
                slot = plan.slots.get(slug)
                if slot is not None:  # other features of the same key are skipped
                    found[slot][key] = plan.one[slot](stored)
            return found
        for chunk in _chunks(keys):
            marks = ",".join("?" * len(chunk))
            grouped: dict[str, tuple[list[str], list[Stored]]] = {}
            for key, slug, stored in conn.execute(_ROWS_OF_KEYS.format(marks), chunk):
                group = grouped.get(slug)
                if group is None:
                    group = grouped[slug] = ([], [])
                group[0].append(key)
                group[1].append(stored)
            for slug, (hits, stored_values) in grouped.items():
                slot = plan.slots.get(slug)
                if slot is not None:
                    found[slot].update(zip(hits, plan.many[slot](stored_values), strict=True))
        return found

    def _plan(self, features: Sequence[FeatureRef]) -> _ReadPlan:
        # The serving path asks for the same feature list over and over: build its SQL and
        # decoders once (a FeatureRef's slug names its version, so its value type is fixed).
        slugs = tuple(f.slug for f in features)
        plan = self._plans.get(slugs)
        if plan is None:
            plan = self._plans[slugs] = _ReadPlan(features)
        return plan

    def delete(self, feature: FeatureRef, keys: Sequence[str]) -> None:
        with self._write() as conn:
            conn.executemany("DELETE FROM online_by_key WHERE feature = ? AND key = ?",
                             [(feature.slug, key) for key in keys])

    def stage(self, feature: FeatureRef, write_id: str, values: dict[str, Any],
              deleted: Sequence[str]) -> None:
        value_type = value_type_of(feature)
        rows: list[tuple[str, str, str, Stored | None, int]] = [
            (write_id, feature.slug, key, encode(feature, value_type, key, value), 0)
            for key, value in values.items()]
        rows += [(write_id, feature.slug, key, None, 1) for key in deleted]
        with self._write() as conn:
            conn.executemany(
                "INSERT OR REPLACE INTO online_staged (write_id, feature, key, value, deleted) "
                "VALUES (?, ?, ?, ?, ?)", rows)

    def publish(self, feature: FeatureRef, write_id: str) -> None:
        staged = (feature.slug, write_id)
        with self._write() as conn:  # one transaction: readers see all of it or none
            conn.execute(
                "INSERT INTO online_by_key (feature, key, value) SELECT feature, key, value "
                "FROM online_staged WHERE feature = ? AND write_id = ? AND NOT deleted "
                "ON CONFLICT (feature, key) DO UPDATE SET value = excluded.value", staged)
            conn.execute(
                "DELETE FROM online_by_key WHERE feature = ?1 AND key IN (SELECT key FROM "
                "online_staged WHERE feature = ?1 AND write_id = ?2 AND deleted)", staged)
            conn.execute("DELETE FROM online_staged WHERE feature = ? AND write_id = ?", staged)

    def drop(self, feature: FeatureRef, write_id: str) -> None:
        with self._write() as conn:
            conn.execute("DELETE FROM online_staged WHERE feature = ? AND write_id = ?",
                         (feature.slug, write_id))

    def staged(self, feature: FeatureRef) -> set[str]:
        rows = self._conn().execute(
            "SELECT DISTINCT write_id FROM online_staged WHERE feature = ?", (feature.slug,))
        return {row[0] for row in rows}

    def keys(self, feature: FeatureRef) -> set[str]:
        rows = self._conn().execute("SELECT key FROM online_by_key WHERE feature = ?",
                                    (feature.slug,)).fetchall()
        return {row[0] for row in rows}

    def close(self) -> None:
        with self._lock:
            for conn in self._connections:
                conn.close()
            self._connections.clear()
        self._local = threading.local()


class _ReadPlan:
    """Per feature list: each slug's position and its decoders (one value, many values)."""

    def __init__(self, features: Sequence[FeatureRef]) -> None:
        self.slots = {f.slug: i for i, f in enumerate(features)}
        if len(self.slots) != len(features):
            raise InvalidInput("the same feature version is asked for twice",
                               "list each feature once")
        types = [value_type_of(f) for f in features]
        self.one: list[Callable[[Stored], Any]] = [decoder(t) for t in types]
        self.many: list[Callable[[list[Stored]], list[Any]]] = [many_decoder(t) for t in types]


class _Transaction:
    """``BEGIN IMMEDIATE`` ... ``COMMIT``, rolled back on any error."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __enter__(self) -> sqlite3.Connection:
        self.conn.execute("BEGIN IMMEDIATE")
        return self.conn

    def __exit__(self, kind: object, error: object, trace: object) -> None:
        self.conn.execute("COMMIT" if error is None else "ROLLBACK")


def _chunks(keys: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(keys), _CHUNK):
        yield keys[start:start + _CHUNK]
