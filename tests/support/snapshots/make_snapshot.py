"""Write a metadata database as this version of reelgraph leaves it, for the migration tests.

    .venv/bin/python tests/support/snapshots/make_snapshot.py NAME   # e.g. metadata-0.1.0

Run it once per released schema (before a migration changes it) and commit the file: the
migration tests open every stored snapshot with the current code.
"""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

from reelgraph.graph import Graph

HERE = Path(__file__).resolve().parent
RATINGS = "rg://dataset/movielens/ratings.csv"
MODEL = "rg://model/personalization/ranker@1"


def main(name: str) -> None:
    target = HERE / f"{name}.db"
    target.unlink(missing_ok=True)
    graph = Graph.open(f"sqlite:///{target}")  # every package's migrations, at their heads
    try:
        graph.add(RATINGS, owner="data", description="MovieLens ratings", tags=("movielens",))
        graph.add(RATINGS, owner="data", description="MovieLens ratings, 100k rows")
        graph.add(MODEL, owner="personalization", properties={"ndcg@10": 0.25})
        graph.link(MODEL, "trained_on", RATINGS)
    finally:
        graph.close()
    with sqlite3.connect(target) as db:  # one self-contained file: no WAL beside it
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.execute("PRAGMA journal_mode=DELETE")
        db.execute("VACUUM")
    print(f"wrote {target} ({target.stat().st_size // 1024} KiB)")


if __name__ == "__main__":
    main(sys.argv[1])
