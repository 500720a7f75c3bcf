"""The offline store: every value ever written, as Parquet files queried with DuckDB.

Layout: ``ROOT/<feature slug>/<write id>.parquet``, one file per write, written to a hidden
temporary name and renamed into place, so a reader sees a whole write or none of it. A write
that must reach replicas first is staged as ``<write id>.pending`` (no read lists it) and
renamed to ``.parquet`` once every replica holds it; a staged write whose process died is
``unfinished`` and is rolled back by ``replication.Replicator``. Each
row holds ``key``, ``value``, ``event_time_us`` (when the value became valid, UTC
microseconds), ``written_us`` and ``run_id``. The value valid at time T for a key is the
row with the greatest ``event_time_us <= T``; between rows with the same event time the
later write wins. Vectors are stored as float32 lists, tables as JSON text.

Once a feature has more than ``compact_after`` files, the commit that passed the threshold
merges them into one (``compaction``); a read that lists a file a compaction deletes before
the read opens it lists again.
"""

from __future__ import annotations

import json
import os
import threading
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from reelgraph.core import (
    InvalidInput,
    Settings,
    atomic_path,
    collect_temporaries,
    home_folder,
    is_dead,
    now_us,
    this_process,
)
from reelgraph.features.compaction import Compaction, compact_folder
from reelgraph.features.ports import FeatureRef, FeatureRows

_OWNER = "reelgraph.writer"  # Parquet metadata of an unfinished write: its process
_READ_ATTEMPTS = 5  # a read racing compactions lists again, this many times at most
_SCALARS = {"float64": pa.float64(), "int64": pa.int64(), "string": pa.string(),
            "bool": pa.bool_()}
# One row per (key, event time): the latest write of it.
_DEDUP = ("SELECT key, value, event_time_us FROM read_parquet([{files}], filename = true) "
          "QUALIFY row_number() OVER (PARTITION BY key, event_time_us "
          "ORDER BY written_us DESC, filename DESC) = 1")


def _arrow_type(feature: FeatureRef) -> pa.DataType:
    kind = feature.value.get("kind")
    if kind == "vector":
        return pa.list_(pa.float32())
    if kind == "table":
        return pa.string()
    return _SCALARS[feature.value.get("dtype", "float64")]


def _encode(feature: FeatureRef, values: Sequence[Any]) -> pa.Array:
    kind = feature.value.get("kind")
    if kind == "vector":
        return pa.array([np.asarray(v, dtype=np.float32) for v in values],
                        type=pa.list_(pa.float32()))
    if kind == "table":
        return pa.array([json.dumps(v, allow_nan=False) for v in values], type=pa.string())
    return pa.array(list(values), type=_arrow_type(feature))


def decode(feature: FeatureRef, value: Any) -> Any:
    """A stored value as the feature's Python value (vectors as float32 arrays)."""
    if value is None:
        return None
    kind = feature.value.get("kind")
    if kind == "vector":
        return np.asarray(value, dtype=np.float32)
    if kind == "table":
        return json.loads(value)
    return value


class ParquetOfflineStore:
    """The offline store: one folder of Parquet files per feature version, read with DuckDB,
    compacted past ``compact_after`` files."""
    # A feature with more files than this is compacted by the commit that passed it: reads
    # cost ~0.1 ms of planning per file, a merge of 64 small files well under a second.
    compact_after = 64

    def __init__(self, root: Path | str | None = None, settings: Settings | None = None
                 ) -> None:
        self.root = Path(root) if root is not None else (
            home_folder(settings, "features", "offline"))
        collect_temporaries(self.root)  # the files of writes killed half-way
        self._duckdb: duckdb.DuckDBPyConnection | None = None
        self._duckdb_lock = threading.Lock()

    def __getstate__(self) -> dict[str, Any]:
        # A copy in another process (a step's) opens its own DuckDB.
        return {**self.__dict__, "_duckdb": None, "_duckdb_lock": None}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state, _duckdb_lock=threading.Lock())

    def _cursor(self) -> duckdb.DuckDBPyConnection:
        """A cursor of the store's one in-memory DuckDB: opening a database costs ~30 ms of
        CPU, a cursor next to nothing, and a DuckDB connection is not shared across threads."""
        with self._duckdb_lock:
            if self._duckdb is None:
                self._duckdb = duckdb.connect()
            return self._duckdb.cursor()

    def folder(self, feature: FeatureRef) -> Path:
        return self.root / feature.slug

    def files(self, feature: FeatureRef) -> list[str]:
        folder = self.folder(feature)
        if not folder.is_dir():
            return []
        return sorted(str(p) for p in folder.glob("*.parquet"))

    # -- writes ---------------------------------------------------------------------------

    def write(self, feature: FeatureRef, rows: FeatureRows) -> str:
        """Append checked rows as one new file (renamed into place); returns its id."""
        write_id = self.stage(feature, rows)
        self.commit(feature, write_id)
        return write_id

    def stage(self, feature: FeatureRef, rows: FeatureRows) -> str:
        """Store rows as an unfinished write (``<id>.pending``, which no read lists) until
        ``commit`` renames it into place; the file names this process as its writer."""
        if not (len(rows.keys) == len(rows.values) == len(rows.event_time_us)):
            raise InvalidInput(
                f"feature {feature.uri!r}: {len(rows.keys)} keys, {len(rows.values)} values "
                f"and {len(rows.event_time_us)} event times", "give one of each per row")
        runs = list(rows.run_id) or [None] * len(rows)
        written = now_us()
        # The id sorts by write time, so "later write wins" also holds across processes.
        write_id = f"{written:017d}-{uuid.uuid4().hex[:8]}"
        table = pa.table({
            "key": pa.array(rows.keys, type=pa.string()),
            "value": _encode(feature, rows.values),
            "event_time_us": pa.array(rows.event_time_us, type=pa.int64()),
            "written_us": pa.array([written] * len(rows), type=pa.int64()),
            "run_id": pa.array(runs, type=pa.string()),
        }).replace_schema_metadata({_OWNER: this_process()})
        with atomic_path(self._pending(feature, write_id)) as temporary:
            pq.write_table(table, temporary)
        return write_id

    def commit(self, feature: FeatureRef, write_id: str) -> None:
        os.replace(self._pending(feature, write_id), self.folder(feature) / f"{write_id}.parquet")
        if len(self.files(feature)) > self.compact_after:
            self.compact(feature)

    def compact(self, feature: FeatureRef) -> Compaction:
        """Merge the feature's committed files into one (see ``compaction``); every read
        returns the same before, during and after."""
        return compact_folder(self.folder(feature))

    def discard(self, feature: FeatureRef, write_id: str) -> None:
        self._pending(feature, write_id).unlink(missing_ok=True)
        (self.folder(feature) / f"{write_id}.parquet").unlink(missing_ok=True)

    def committed(self, feature: FeatureRef, write_id: str) -> bool | None:
        if self._pending(feature, write_id).exists():  # looked at first: commit renames it
            return False
        return True if (self.folder(feature) / f"{write_id}.parquet").exists() else None

    def unfinished(self, feature: FeatureRef) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        folder = self.folder(feature)
        for path in sorted(folder.glob("*.pending")) if folder.is_dir() else []:
            try:
                owner = (pq.read_schema(path).metadata or {}).get(_OWNER.encode(), b"")
                if is_dead(owner.decode()):
                    keys = pq.read_table(path, columns=["key"]).column("key").to_pylist()
                    found[path.name.removesuffix(".pending")] = keys
            except FileNotFoundError:  # committed or discarded meanwhile
                continue
        return found

    def _pending(self, feature: FeatureRef, write_id: str) -> Path:
        return self.folder(feature) / f"{write_id}.pending"

    # -- reads ----------------------------------------------------------------------------

    def _query(self, sql: str, params: Sequence[Any] = (), **tables: pa.Table) -> pa.Table:
        with self._cursor() as con:
            for name, table in tables.items():
                con.register(name, table)
            return con.sql(sql, params=list(params) or None).to_arrow_table()

    def _source(self, files: list[str]) -> str:
        listed = ", ".join("'" + f.replace("'", "''") + "'" for f in files)
        return _DEDUP.format(files=listed)

    def _read(self, feature: FeatureRef, query: Callable[[str], str],
              params: Sequence[Any] = (), pending: str | None = None,
              **tables: pa.Table) -> pa.Table | None:
        """``query(source)`` over the feature's de-duplicated rows (None: no file). A file
        that vanished between listing and reading was merged by a compaction: list again."""
        for attempt in range(_READ_ATTEMPTS):
            files = self.files(feature)
            if pending is not None:
                files.append(str(self._pending(feature, pending)))
            if not files:
                return None
            try:
                return self._query(query(self._source(files)), params, **tables)
            except duckdb.IOException:
                if attempt + 1 == _READ_ATTEMPTS or all(os.path.exists(f) for f in files):
                    raise
        raise AssertionError("unreachable: the last attempt raises")

    def latest(self, feature: FeatureRef, keys: Sequence[str] | None = None,
               as_of_us: int | None = None, pending: str | None = None) -> dict[str, Any]:
        """The value valid at ``as_of_us`` (default: the newest) per key that has one;
        ``pending`` names an unfinished write of this process to count as if committed."""
        where, params, tables = [], [], {}
        if as_of_us is not None:
            where.append("event_time_us <= ?")
            params.append(as_of_us)
        if keys is not None:
            if not keys:
                return {}
            tables["wanted"] = pa.table({"key": pa.array(list(keys), type=pa.string())})
            where.append("key IN (SELECT key FROM wanted)")
        condition = f"WHERE {' AND '.join(where)}" if where else ""
        table = self._read(feature, lambda source: (
            f"SELECT key, value FROM ({source}) {condition} "
            "QUALIFY row_number() OVER (PARTITION BY key ORDER BY event_time_us DESC) = 1"),
            params, pending, **tables)
        if table is None:
            return {}
        return {k: decode(feature, v) for k, v in zip(
            table.column("key").to_pylist(), table.column("value").to_pylist(), strict=True)}

    def keys(self, feature: FeatureRef) -> set[str]:
        table = self._read(feature, lambda source: f"SELECT DISTINCT key FROM ({source})")
        return set() if table is None else set(table.column("key").to_pylist())

    def point_in_time(self, feature: FeatureRef, entities: pa.Table) -> pa.Array:
        """For each row of ``entities`` (columns ``key`` string, ``ts_us`` int64), the value
        valid at ``ts_us`` (event time <= ts_us), or null; in the rows' order."""
        rows = entities.num_rows
        numbered = entities.append_column("row_id", pa.array(np.arange(rows), type=pa.int64()))
        table = self._read(feature, lambda source: (
            f"WITH f AS ({source}) SELECT e.row_id, f.value FROM entities e "
            "ASOF LEFT JOIN f ON e.key = f.key AND e.ts_us >= f.event_time_us "
            "ORDER BY e.row_id"), entities=numbered)
        if table is None:
            return pa.nulls(rows, type=_arrow_type(feature))
        return table.column("value").combine_chunks()
