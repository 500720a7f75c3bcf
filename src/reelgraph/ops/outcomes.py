"""Reading the impression log back, and joining what members then played to what we showed.

Outcomes are plays (or ratings) with ``user``, ``item`` and ``time``; each is joined to the
same user's latest impression at or before it, within ``horizon_s`` (DuckDB ``ASOF JOIN``),
so "a member played an item we ranked low or did not show" is one query: ``rank`` is the
played item's 1-based position in that answer, NULL when it was not shown.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa

from reelgraph.core import InvalidInput
from reelgraph.ops.impressions import SCHEMA

OUTCOME_COLUMNS = ("user", "item", "time")


def read_impressions(root: str | Path, start: float | None = None, end: float | None = None
                     ) -> pa.Table:
    """Impressions logged under ``root`` with ``start <= time < end`` (unix seconds)."""
    files = sorted(Path(root).glob("date=*/*.parquet"))
    if not files:
        return SCHEMA.empty_table()
    where, params = [], []
    if start is not None:
        where.append("time >= ?")
        params.append(start)
    if end is not None:
        where.append("time < ?")
        params.append(end)
    # union_by_name: files written before a column was added read it as NULL
    sql = "SELECT * FROM read_parquet(?, union_by_name = true)" + (
        f" WHERE {' AND '.join(where)}" if where else "")
    with duckdb.connect() as con:
        found = con.sql(sql + " ORDER BY time", params=[[str(f) for f in files], *params])
        return found.to_arrow_table()


def join_outcomes(impressions: pa.Table, outcomes: pa.Table, horizon_s: float = 3600.0
                  ) -> pa.Table:
    """One row per outcome that follows an impression of its user within ``horizon_s``:
    the outcome, the request it answers, and ``rank`` (NULL: not shown)."""
    missing = [c for c in OUTCOME_COLUMNS if c not in outcomes.column_names]
    if missing:
        raise InvalidInput(f"the outcomes lack column(s) {', '.join(missing)} (they have "
                           f"{', '.join(outcomes.column_names)})",
                           "give plays as a table with user, item and time columns")
    with duckdb.connect() as con:
        con.register("impressions", impressions.select(
            ["request_id", "time", "canvas", "user", "items", "cold_start", "error"]))
        con.register("outcomes", outcomes.select(list(OUTCOME_COLUMNS)))
        return con.sql(
            """SELECT o.user, o.item, o.time, i.request_id, i.canvas, i.cold_start,
                      list_position(i.items, CAST(o.item AS VARCHAR)) AS rank
               FROM (SELECT CAST(user AS VARCHAR) AS user, item, CAST(time AS DOUBLE) AS time
                     FROM outcomes) o
               ASOF JOIN (SELECT * FROM impressions WHERE error IS NULL) i
                 ON o.user = i.user AND o.time >= i.time
               WHERE o.time - i.time <= ?""", params=[horizon_s]).to_arrow_table()
