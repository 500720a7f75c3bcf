"""Offline-store compaction: many small Parquet files become one, and every read (latest,
as of a time, keys, point in time, the raw rows) answers the same before and after, also
while writes and compactions race with it."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from reelgraph.features import FeatureRef, FeatureRows, ParquetOfflineStore

VECTOR = FeatureRef("ns", "emb", "v1", "title", {"kind": "vector", "dim": 3})
SCORE = FeatureRef("ns", "score", "v1", "title", {"kind": "scalar", "dtype": "float64"})


def raw_rows(store: ParquetOfflineStore, feature: FeatureRef) -> list[tuple[Any, ...]]:
    """Every stored row, sorted: what compaction must keep exactly."""
    files = store.files(feature)
    table = pa.concat_tables([pq.read_table(f).replace_schema_metadata(None) for f in files])
    columns = [
        table.column(c).to_pylist()
        for c in ("key", "value", "event_time_us", "written_us", "run_id")
    ]
    return sorted((k, repr(v), t, w, r) for k, v, t, w, r in zip(*columns, strict=True))


def snapshot(store: ParquetOfflineStore, feature: FeatureRef) -> dict[str, Any]:
    """What each kind of read answers now, in comparable form."""

    def plain(values: dict[str, Any]) -> dict[str, Any]:
        return {k: np.asarray(v).tolist() for k, v in values.items()}

    entities = pa.table(
        {
            "key": pa.array(["k0", "k3", "k7", "nope"] * 3),
            "ts_us": pa.array([5, 25, 45] * 4, type=pa.int64()),
        }
    )
    return {
        "latest": plain(store.latest(feature)),
        "as_of": {t: plain(store.latest(feature, as_of_us=t)) for t in (0, 15, 30)},
        "some": plain(store.latest(feature, ["k1", "k5", "absent"])),
        "keys": store.keys(feature),
        "point_in_time": store.point_in_time(feature, entities).to_pylist(),
        "raw": raw_rows(store, feature),
    }


def write_many(store: ParquetOfflineStore, feature: FeatureRef, writes: int) -> None:
    """Overlapping writes: keys rewritten at new and at the same event times."""
    rng = np.random.default_rng(7)
    for n in range(writes):
        keys = [f"k{(n + i) % 9}" for i in range(3)]
        values: list[Any] = (
            [rng.normal(size=3).astype(np.float32) for _ in keys]
            if feature is VECTOR
            else [float(n * 10 + i) for i in range(3)]
        )
        store.write(feature, FeatureRows(keys, values, [10 * (n % 4)] * 3, [f"run-{n}"] * 3))


def test_compaction_keeps_every_row_and_every_answer(tmp_path: Path) -> None:
    store = ParquetOfflineStore(tmp_path)
    for feature in (VECTOR, SCORE):
        write_many(store, feature, 20)
        before = snapshot(store, feature)
        assert len(store.files(feature)) == 20
        done = store.compact(feature)
        assert (done.files_before, done.files_after, done.rows) == (20, 1, 60)
        assert store.files(feature)[0].endswith(".merged.parquet")
        # Streamed: one row group per file copied, never the feature as one table in memory.
        assert pq.ParquetFile(store.files(feature)[0]).metadata.num_row_groups == 20
        assert snapshot(store, feature) == before
        # A later write still wins over the merged rows, and a second compaction merges it.
        store.write(feature, FeatureRows(["k0"], [[9, 9, 9] if feature is VECTOR else 9.0], [10]))
        assert np.asarray(store.latest(feature, ["k0"], as_of_us=10)["k0"]).tolist() == (
            [9, 9, 9] if feature is VECTOR else 9.0
        )
        assert store.compact(feature).files_after == 1
        assert len(raw_rows(store, feature)) == 61
    assert not [p for p in tmp_path.rglob("*") if p.name.endswith(".tmp")]


def test_nothing_to_compact(tmp_path: Path) -> None:
    store = ParquetOfflineStore(tmp_path)
    assert store.compact(SCORE).rows == 0  # no folder yet
    write_many(store, SCORE, 1)
    assert (store.compact(SCORE).files_after, store.compact(SCORE).rows) == (1, 0)


def test_a_commit_past_the_threshold_compacts(tmp_path: Path) -> None:
    store = ParquetOfflineStore(tmp_path)
    store.compact_after = 4
    write_many(store, SCORE, 1)
    counts = [len(store.files(SCORE))]
    for n in range(1, 7):
        store.write(SCORE, FeatureRows([f"n{n}"], [float(n)], [n]))
        counts.append(len(store.files(SCORE)))
    assert counts == [1, 2, 3, 4, 1, 2, 3]  # the fifth file passed 4: merged into one
    assert len(raw_rows(store, SCORE)) == 3 + 6


def test_reads_racing_writes_and_compactions_never_miss_a_row(tmp_path: Path) -> None:
    store = ParquetOfflineStore(tmp_path)
    store.compact_after = 3  # a compaction every few writes
    writes = 60
    written = threading.Event()
    failures: list[BaseException] = []

    def writer() -> None:
        try:
            for n in range(writes):
                store.write(SCORE, FeatureRows([f"w{n:03d}"], [float(n)], [n]))
        except BaseException as exc:  # reported by the main thread
            failures.append(exc)
        finally:
            written.set()

    thread = threading.Thread(target=writer)
    thread.start()
    seen = 0
    reads = 0
    while not written.is_set() or reads == 0:
        keys = ParquetOfflineStore(tmp_path).keys(SCORE)  # a reader with its own DuckDB
        # Writes land in order, so a complete read is a prefix w000..w(n-1), never less
        # than an earlier read saw.
        assert keys == {f"w{n:03d}" for n in range(len(keys))}, sorted(keys)
        assert len(keys) >= seen
        seen, reads = len(keys), reads + 1
    thread.join()
    assert not failures, failures
    assert store.keys(SCORE) == {f"w{n:03d}" for n in range(writes)}
    assert len(store.files(SCORE)) <= store.compact_after
