"""What does one offline-store read cost: a DuckDB database per read, or one shared?

Writes one feature (``--keys`` rows, in ``--files`` Parquet files) with
``ParquetOfflineStore`` and reads the latest value of ``--lookup`` keys ``--reads`` times,
two ways in the same run: the store as it is (one in-memory DuckDB for every read, a cursor
per read) and the same query on a fresh ``duckdb.connect()`` per read (what the store did
before). Reports CPU and wall milliseconds per read and their ratio, with the load average.

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", type=int, default=10_000)
    parser.add_argument("--files", type=int, default=10)
    parser.add_argument("--lookup", type=int, default=20)
    parser.add_argument("--reads", type=int, default=200)
    args = parser.parse_args()
    feature = FeatureRef("bench", "score", "v1", "item", {"kind": "scalar", "dtype": "float64"})
    with tempfile.TemporaryDirectory() as root:
        shared, per_read = ParquetOfflineStore(root), PerReadConnection(root)
        per_file = args.keys // args.files
        for part in range(args.files):
            keys = [str(k) for k in range(part * per_file, (part + 1) * per_file)]
            shared.write(feature, FeatureRows(keys, [float(k) for k in range(len(keys))],
                                              [1_000_000] * len(keys)))
        wanted = [str(k) for k in range(0, args.keys, max(1, args.keys // args.lookup))]
        assert shared.latest(feature, wanted) == per_read.latest(feature, wanted)
        results = {
            "shared_database": _time(lambda: shared.latest(feature, wanted), args.reads),
            "database_per_read": _time(lambda: per_read.latest(feature, wanted), args.reads),
        }
    ratio = results["database_per_read"]["cpu_ms"] / results["shared_database"]["cpu_ms"]
    report = {"question": "CPU per offline read: one DuckDB database vs one per read",
              "config": vars(args), "results": results,
              "cpu_ratio_per_read_over_shared": round(ratio, 2), "machine": machine()}
    for name, row in results.items():
        print(f"{name:>18}: {row['cpu_ms']:7.2f} ms CPU, {row['wall_ms']:7.2f} ms wall per read")
    print(f"a database per read costs {ratio:.1f}x the CPU of the shared one "
          f"(load average {report['machine']['load_average_1m_at_end']})")
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
