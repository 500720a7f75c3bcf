"""What a replicated feature write costs: ``Replicator.write`` of N keys to the offline store
plus the online store (SQLite, then Redis) and, for a vector feature, the FAISS index.

Run as it is, it times the checked-out code; ``--before REF`` also times the code of a git
revision (its ``src`` exported to a temporary folder, run in a child process) in the same
run, so the two figures share the machine's load. Figures: median wall seconds and CPU
seconds of this process over ``--repeat`` writes (Redis's own CPU is not counted).

    .venv/bin/python benchmarks/replicated_write.py --before main
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "replicated_write.json"
REDIS_URL = os.environ.get("REELGRAPH_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")


def measure(keys: int, dim: int, repeat: int) -> dict[str, Any]:
    from reelgraph.features.offline import ParquetOfflineStore
    from reelgraph.features.online import open_online_store
    from reelgraph.features.ports import FeatureRef, FeatureRows
    from reelgraph.features.replication import Replicator
    from reelgraph.features.vector import FaissVectorIndex

    score = FeatureRef("bench", "score", "v1", "title", {"kind": "scalar", "dtype": "float64"})
    embedding = FeatureRef("bench", "embedding", "v1", "title", {"kind": "vector", "dim": dim})
    names = [f"t{i}" for i in range(keys)]
    rng = np.random.default_rng(0)
    figures: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        prefix = f"bench-{uuid.uuid4().hex[:8]}"
        cases = [("scalar, SQLite online", score, f"sqlite:///{root / 'online.db'}"),
                 ("scalar, Redis online", score, f"{REDIS_URL}?prefix={prefix}"),
                 ("vector, SQLite online + FAISS", embedding,
                  f"sqlite:///{root / 'online2.db'}")]
        for name, feature, url in cases:
            online = open_online_store(url)
            replicator = Replicator(ParquetOfflineStore(root / f"offline-{len(figures)}"),
                                    online, FaissVectorIndex(root / f"vectors-{len(figures)}"))
            walls, cpus = [], []
            for round_ in range(repeat):
                values: list[Any] = (
                    list(rng.random(keys)) if feature is score
                    else list(rng.random((keys, dim), dtype=np.float32)))
                rows = FeatureRows(names, values, [round_ + 1] * keys)
                wall, cpu = time.perf_counter(), time.process_time()
                replicator.write(feature, rows)
                walls.append(time.perf_counter() - wall)
                cpus.append(time.process_time() - cpu)
            figures[name] = {"wall_s": round(statistics.median(walls), 3),
                             "cpu_s": round(statistics.median(cpus), 3)}
            drop = getattr(online, "drop_prefix", None)
            if drop is not None:
                drop()
            online.close()
    return figures


def before(ref: str, args: argparse.Namespace) -> dict[str, Any]:
    """The same measurement on the ``src`` of a git revision, in a child process."""
    with tempfile.TemporaryDirectory() as folder:
        archive = subprocess.run(["git", "archive", ref, "src"], cwd=HERE.parent,
                                 capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", folder], input=archive, check=True)
        env = {**os.environ, "PYTHONPATH": str(Path(folder) / "src")}
        done = subprocess.run([sys.executable, __file__, "--keys", str(args.keys), "--dim",
                               str(args.dim), "--repeat", str(args.repeat), "--json"],
                              env=env, capture_output=True, text=True, check=True)
        figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
        return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--keys", type=int, default=50_000)
    parser.add_argument("--dim", type=int, default=32)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--before", help="also time this git revision (e.g. main)")
    parser.add_argument("--json", action="store_true", help="print the figures only")
    args = parser.parse_args()
    now = measure(args.keys, args.dim, args.repeat)
    if args.json:
        print(json.dumps(now))
        return
    sys.path.insert(0, str(HERE))
    from machine import machine, save

    report: dict[str, Any] = {"keys": args.keys, "dim": args.dim, "after": now}
    if args.before:
        report["before"] = {"ref": args.before, **before(args.before, args)}
        for name, figures in now.items():
            old = report["before"][name]
            print(f"{name:<32} before {old['wall_s']:6.2f} s (cpu {old['cpu_s']:5.2f})  "
                  f"after {figures['wall_s']:6.2f} s (cpu {figures['cpu_s']:5.2f})  "
                  f"cpu ratio {figures['cpu_s'] / max(old['cpu_s'], 1e-6):4.2f}")
    report["machine"] = machine()
    save(report, RESULTS)


if __name__ == "__main__":
    main()
