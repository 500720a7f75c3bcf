"""What does one offline-store read cost: a DuckDB database per read or one shared, and
many small files or one compacted file?

Writes one feature (``--keys`` rows, in ``--files`` Parquet files) with
``ParquetOfflineStore`` and reads the latest value of ``--lookup`` keys ``--reads`` times,
two ways in the same run: the store as it is (one in-memory DuckDB for every read, a cursor
per read) and the same query on a fresh ``duckdb.connect()`` per read (what the store did
before). Then the same keys written as ``--small-files`` files (a feature written in many
small batches), read before and after ``compact`` merges them into one. Reports CPU and wall
milliseconds per read and the ratios, with the load average.

    python benchmarks/offline_reads.py                  # ~20 s
    python benchmarks/offline_reads.py --reads 50
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb

from machine import machine
from reelgraph.features import FeatureRef, FeatureRows, ParquetOfflineStore

RESULTS = Path(__file__).resolve().parent / "results" / "offline_reads.json"


class PerReadConnection(ParquetOfflineStore):
    """The store's queries, each on a database opened for it (the old way)."""

    def _cursor(self) -> duckdb.DuckDBPyConnection:
        return duckdb.connect()


def _time(read: Callable[[], Any], reads: int) -> dict[str, float]:
    read()  # warm: file metadata, imports
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(reads):
        read()
    return {"cpu_ms": (time.process_time() - cpu) / reads * 1e3,
            "wall_ms": (time.perf_counter() - wall) / reads * 1e3}


def write_parts(store: ParquetOfflineStore, feature: FeatureRef, keys: int, parts: int) -> None:
    per_file = keys // parts
    for part in range(parts):
        names = [str(k) for k in range(part * per_file, (part + 1) * per_file)]
        store.write(feature, FeatureRows(names, [float(k) for k in range(len(names))],
                                         [1_000_000] * len(names)))


def compaction(feature: FeatureRef, wanted: list[str], args: argparse.Namespace
               ) -> dict[str, Any]:
    """Reads of a feature kept in many small files, before and after one compaction."""
    with tempfile.TemporaryDirectory() as root:
        store = ParquetOfflineStore(root)
        store.compact_after = args.small_files + 1  # no automatic compaction while writing
        write_parts(store, feature, args.keys, args.small_files)
        before = store.latest(feature, wanted)
        small = _time(lambda: store.latest(feature, wanted), args.reads)
        cpu, wall = time.process_time(), time.perf_counter()
        done = store.compact(feature)
        compact_cpu_s, compact_wall_s = time.process_time() - cpu, time.perf_counter() - wall
        assert store.latest(feature, wanted) == before and done.files_after == 1
        merged = _time(lambda: store.latest(feature, wanted), args.reads)
    return {"files_before": done.files_before, "files_after": done.files_after,
            "small_files": small, "compacted": merged,
            "compaction_cpu_s": round(compact_cpu_s, 3),
            "compaction_wall_s": round(compact_wall_s, 3),
            "cpu_ratio_small_over_compacted": round(small["cpu_ms"] / merged["cpu_ms"], 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", type=int, default=10_000)
    parser.add_argument("--files", type=int, default=10)
    parser.add_argument("--lookup", type=int, default=20)
    parser.add_argument("--reads", type=int, default=200)
    parser.add_argument("--small-files", type=int, default=200)
    args = parser.parse_args()
    feature = FeatureRef("bench", "score", "v1", "item", {"kind": "scalar", "dtype": "float64"})
    with tempfile.TemporaryDirectory() as root:
        shared, per_read = ParquetOfflineStore(root), PerReadConnection(root)
        write_parts(shared, feature, args.keys, args.files)
        wanted = [str(k) for k in range(0, args.keys, max(1, args.keys // args.lookup))]
        assert shared.latest(feature, wanted) == per_read.latest(feature, wanted)
        results = {
            "shared_database": _time(lambda: shared.latest(feature, wanted), args.reads),
            "database_per_read": _time(lambda: per_read.latest(feature, wanted), args.reads),
        }
    compacted = compaction(feature, wanted, args)
    ratio = results["database_per_read"]["cpu_ms"] / results["shared_database"]["cpu_ms"]
    report = {"question": "CPU per offline read: one DuckDB database vs one per read; "
                          "many small files vs one compacted file",
              "config": vars(args), "results": results,
              "cpu_ratio_per_read_over_shared": round(ratio, 2), "compaction": compacted,
              "machine": machine()}
    for name, row in results.items():
        print(f"{name:>18}: {row['cpu_ms']:7.2f} ms CPU, {row['wall_ms']:7.2f} ms wall per read")
    print(f"a database per read costs {ratio:.1f}x the CPU of the shared one")
    for name in ("small_files", "compacted"):
        row = compacted[name]
        print(f"{name:>18}: {row['cpu_ms']:7.2f} ms CPU, {row['wall_ms']:7.2f} ms wall per read")
    print(f"{compacted['files_before']} files cost {compacted['cpu_ratio_small_over_compacted']}x "
          f"the CPU of one compacted file per read; compacting took "
          f"{compacted['compaction_cpu_s']} s CPU "
          f"(load average {report['machine']['load_average_1m_at_end']})")
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
