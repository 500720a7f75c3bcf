"""SQLite back-end: one file, WAL mode, writers serialised with BEGIN IMMEDIATE, FTS5 search."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, text

from reelgraph.graph.model import NodeSpec
from reelgraph.graph.sql.store import SqlGraphStore, search_fields

_BATCH = 50_000
_BULK_CACHE_KIB = 1 << 20  # while bulk loading: keeps the indexes being built in memory
_SAVED_CACHE = "reelgraph_cache_size"


class SqliteGraphStore(SqlGraphStore):
    def _index_texts(
        self, conn: Connection, entries: Iterable[tuple[int, NodeSpec | None]]
    ) -> None:
        for batch in _batched(entries):
            conn.exec_driver_sql(
                "DELETE FROM rg_node_fts WHERE rowid = ?", [(node_id,) for node_id, _ in batch]
            )
            rows = [(node_id, *search_fields(spec)) for node_id, spec in batch if spec]
            if rows:
                conn.exec_driver_sql(
                    "INSERT INTO rg_node_fts (rowid, name, tags, description, properties) "
                    "VALUES (?, ?, ?, ?, ?)",
                    rows,
                )

    def _search_ids(self, conn: Connection, text_query: str, limit: int
                    ) -> list[tuple[int, float]]:
        terms = [f'"{t}"*' for t in text_query.split()]
        for joiner in (" AND ", " OR "):  # all words first; any word if none has all
            rows = conn.execute(
                text(
                    "SELECT rowid, bm25(rg_node_fts, 10.0, 4.0, 2.0, 1.0) AS rank "
                    "FROM rg_node_fts WHERE rg_node_fts MATCH :q ORDER BY rank LIMIT :n"
                ),
                {"q": joiner.join(terms), "n": limit},
            ).all()
            if rows:
                return [(row[0], -float(row[1])) for row in rows]
        return []

    def _after_bulk_load(self, conn: Connection) -> None:
        conn.exec_driver_sql("ANALYZE")
        saved = conn.info.pop(_SAVED_CACHE, None)
        if saved is not None:
            conn.exec_driver_sql(f"PRAGMA cache_size={int(saved)}")

    def _bulk_insert(self, conn: Connection, table: str, columns: Sequence[str],
                     rows: Iterable[tuple[Any, ...]]) -> None:
        if _SAVED_CACHE not in conn.info:
            # Random inserts into the edge indexes would otherwise spill pages to the WAL
            # over and over (1M nodes, 5M edges: over 6 min without, 2.5 min with).
            conn.info[_SAVED_CACHE] = conn.exec_driver_sql("PRAGMA cache_size").scalar()
            conn.exec_driver_sql(f"PRAGMA cache_size=-{_BULK_CACHE_KIB}")
        sql = (f"INSERT INTO {table} ({', '.join(columns)}) "
               f"VALUES ({', '.join('?' for _ in columns)})")
        for batch in _batched(rows):
            conn.exec_driver_sql(sql, batch)


def _batched(rows: Iterable[Any]) -> Iterable[list[Any]]:
    iterator = iter(rows)
    while batch := list(itertools.islice(iterator, _BATCH)):
        yield batch
