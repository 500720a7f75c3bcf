"""The impression log: every answered request, written off the request path as Parquet.

    log = ImpressionLog(root)                   # $REELGRAPH_HOME/offline/impressions
    service = RecommendationService(ws, impressions=log)
    ...
    log.close()                                 # flushes what is queued

``record`` (called by serving on the request thread) stamps the time, samples, and puts the
record on a bounded queue; when the queue is full the record is dropped and counted
(``dropped``), never waited for. A background thread writes batches as Parquet files, one
folder per UTC day (``date=2026-12-07/part-....parquet``), each written to a temporary name
and renamed, so a reader never sees half a file. ``read_impressions`` and
``join_outcomes`` query them with DuckDB.
"""

from __future__ import annotations

import json
import queue
import threading
import time
import uuid
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from reelgraph.core import InvalidInput
from reelgraph.serving import Impression

SCHEMA = pa.schema([
    ("request_id", pa.string()), ("time", pa.float64()), ("canvas", pa.string()),
    ("user", pa.string()), ("item", pa.string()), ("query", pa.string()),
    ("category", pa.string()), ("k", pa.int32()), ("context", pa.string()),
    ("model_version", pa.string()), ("environment", pa.string()), ("fallback", pa.string()),
    ("items", pa.list_(pa.string())), ("scores", pa.list_(pa.float64())),
    ("latency_ms", pa.float64()), ("cold_start", pa.bool_()), ("error", pa.string()),
    ("rules", pa.list_(pa.string())),
    # CPU the request's own thread spent on it (NULL when the caller did not measure it)
    ("cpu_ms", pa.float64()),
])


_INT32 = 2**31 - 1


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def row_of(impression: Impression, at: float) -> dict[str, Any]:
    inputs = impression.inputs
    k = inputs.get("k")
    return {"request_id": impression.request_id, "time": at, "canvas": impression.canvas,
            "user": _text(inputs.get("user")), "item": _text(inputs.get("item")),
            "query": _text(inputs.get("query")), "category": _text(inputs.get("category")),
            "k": k if isinstance(k, int) and not isinstance(k, bool) and abs(k) <= _INT32
            else None,  # a refused request may have asked for any k: keep what fits
            "context": json.dumps(dict(impression.context), default=str),
            "model_version": impression.model_version, "environment": impression.environment,
            "fallback": impression.fallback or None, "items": list(impression.items),
            "scores": list(impression.scores), "latency_ms": impression.latency_ms,
            "cold_start": impression.cold_start, "error": impression.error,
            "rules": list(impression.rules), "cpu_ms": impression.cpu_ms}


@dataclass(frozen=True)
class LogStats:
    recorded: int  # taken into the queue
    sampled_out: int  # skipped by the sampling rate
    dropped: int  # lost because the queue was full
    written: int  # rows in Parquet files
    files: int


class ImpressionLog:
    """A non-blocking ``ImpressionSink`` writing batched Parquet partitions under ``root``."""

    def __init__(self, root: str | Path, *, sample_rate: float = 1.0, queue_size: int = 10_000,
                 batch_size: int = 2_000, flush_s: float = 1.0,
                 clock: Callable[[], float] = time.time) -> None:
        if not 0.0 < sample_rate <= 1.0:
            raise InvalidInput(f"sample rate {sample_rate} is not in (0, 1]",
                               "log every request with 1.0, or a share such as 0.1")
        self.root = Path(root)
        self.sample_rate = sample_rate
        self.batch_size = batch_size
        self.flush_s = flush_s
        self.clock = clock
        self._queue: queue.Queue[dict[str, Any] | None] = queue.Queue(queue_size)
        self._lock = threading.Lock()
        self._counts = {"recorded": 0, "sampled_out": 0, "dropped": 0, "written": 0,
                        "files": 0}
        self._flushed = threading.Condition()
        self._pending = 0
        self._thread = threading.Thread(target=self._write_loop, name="reelgraph-impressions",
                                        daemon=True)
        self._thread.start()

    # --- the request path ------------------------------------------------------------------

    def record(self, impression: Impression) -> None:
        if self.sample_rate < 1.0 and not self._sampled(impression.request_id):
            self._count("sampled_out")
            return
        row = row_of(impression, self.clock())
        try:
            self._queue.put_nowait(row)
        except queue.Full:
            self._count("dropped")
            return
        with self._flushed:
            self._pending += 1
        self._count("recorded")

    def _sampled(self, request_id: str) -> bool:
        # by a hash of the id, so every process keeps the same requests
        return zlib.crc32(request_id.encode()) / 2**32 < self.sample_rate

    def _count(self, name: str, by: int = 1) -> None:
        with self._lock:
            self._counts[name] += by

    @property
    def stats(self) -> LogStats:
        with self._lock:
            return LogStats(**self._counts)

    # --- the writer ------------------------------------------------------------------------

    def _write_loop(self) -> None:
        batch: list[dict[str, Any]] = []
        started = 0.0
        while True:
            try:
                row = self._queue.get(timeout=self.flush_s)
            except queue.Empty:
                row = {}  # quiet for a while: write what has come
            if row is None:  # closing
                if batch:
                    self._write(batch)
                return
            if row:
                if not batch:
                    started = time.monotonic()
                batch.append(row)
            if batch and (not row or len(batch) >= self.batch_size
                          or time.monotonic() - started >= self.flush_s):
                self._write(batch)
                batch = []

    def _write(self, rows: list[dict[str, Any]]) -> None:
        by_day: dict[str, list[dict[str, Any]]] = {}
        for row in rows:
            day = datetime.fromtimestamp(row["time"], UTC).strftime("%Y-%m-%d")
            by_day.setdefault(day, []).append(row)
        written = 0
        for day, part in by_day.items():
            folder = self.root / f"date={day}"
            name = f"part-{time.time_ns()}-{uuid.uuid4().hex[:8]}.parquet"
            temporary = folder / f".{name}.tmp"
            try:
                table = pa.Table.from_pylist(part, SCHEMA)
                folder.mkdir(parents=True, exist_ok=True)
                pq.write_table(table, temporary)
            except (pa.ArrowException, OSError, ValueError, OverflowError):
                # the writer thread must outlive one bad batch (a full disk, an odd value):
                # its rows are counted as dropped, never silently lost
                temporary.unlink(missing_ok=True)
                self._count("dropped", len(part))
                continue
            temporary.rename(folder / name)  # atomic: readers glob *.parquet only
            self._count("files")
            written += len(part)
        self._count("written", written)
        with self._flushed:
            self._pending -= len(rows)
            self._flushed.notify_all()

    def flush(self, timeout: float = 30.0) -> None:
        """Wait until everything recorded so far is in Parquet files."""
        self._queue.put({})  # an empty row: write the batch now
        with self._flushed:
            self._flushed.wait_for(lambda: self._pending <= 0, timeout)

    def close(self) -> None:
        self.flush()
        self._queue.put(None)
        self._thread.join()

    def __enter__(self) -> ImpressionLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
