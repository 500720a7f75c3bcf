"""Offline batch hosting: every target of a canvas scored to one Parquet file.

One row per (request, rank): ``user``, ``category``, ``source_item`` (whichever the canvas
takes; null otherwise), ``rank`` (1 = best), ``item``, ``score``, plus the model version and
the time of scoring. The file appears whole or not at all (``core.files.atomic_path``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from reelgraph.core import atomic_path
from reelgraph.recsys import ScoredBatch, UnifiedRecommender

SCHEMA = pa.schema([("user", pa.string()), ("category", pa.string()),
                    ("source_item", pa.string()), ("rank", pa.int32()), ("item", pa.string()),
                    ("score", pa.float64()), ("model_version", pa.string()),
                    ("scored_at", pa.float64())])


@dataclass(frozen=True)
class BatchReport:
    path: Path
    canvas: str
    requests: int
    rows: int
    seconds: float
    model_version: str

    @property
    def requests_per_s(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def _table(batch: ScoredBatch, model_version: str, at: float) -> pa.Table:
    columns: dict[str, list[object]] = {name: [] for name in SCHEMA.names}
    for row, items in enumerate(batch.items):
        for position, item in enumerate(items):
            columns["user"].append(batch.users[row])
            columns["category"].append(batch.categories[row])
            columns["source_item"].append(batch.sources[row])
            columns["rank"].append(position + 1)
            columns["item"].append(item)
            columns["score"].append(batch.scores[row][position])
    n = len(columns["item"])
    columns["model_version"] = [model_version] * n
    columns["scored_at"] = [at] * n
    return pa.table(columns, schema=SCHEMA)


def score_to_parquet(recommender: UnifiedRecommender, canvas: str, path: Path, k: int = 10,
                     users: Sequence[str] | None = None,
                     progress: Callable[[int, int], None] | None = None) -> BatchReport:
    """Score the canvas's targets (every known user; every item for related) to ``path``.
    ``progress(done, total)`` is called after each batch."""
    found = recommender.targets(canvas, users)
    started = time.perf_counter()
    at = time.time()
    rows = done = 0
    with atomic_path(path) as temporary, pq.ParquetWriter(temporary, SCHEMA) as writer:
        for batch in recommender.score_targets(found, k):
            table = _table(batch, recommender.model_version, at)
            writer.write_table(table)
            rows += table.num_rows
            done += len(batch.keys)
            if progress is not None:
                progress(done, len(found))
    return BatchReport(path, canvas, len(found), rows, time.perf_counter() - started,
                       recommender.model_version)
