"""How long does a batch that writes a chain of acyclic edges take, now that cycles are
checked once per batch in memory, next to the per-edge check it replaced?

A batch adds N dataset nodes and the N-1 ``derived_from`` edges d[i] -> d[i-1] (the shape of
a long lineage chain, the worst case for a per-edge walk: each new edge's target reaches
every earlier node). ``batch`` is the whole ``Graph.batch`` apply (nodes, edges, the cycle
check, commit) on a fresh SQLite graph. ``per-edge check`` replays, on the same stored chain
and connection, only the queries the old check ran (2ead2b9, ``_Writer._refuse_cycle``): a
breadth-first walk from each new edge's target, one query per hop, for every edge. That is
a lower bound of the old batch time (the old batch also did everything the new one does).

    python benchmarks/graph_cycles.py               # chains of 250, 500, 1000 (~1-3 min)
    python benchmarks/graph_cycles.py --sizes 1000 --legacy-max 1000
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text

from machine import machine, save
from reelgraph.graph import Graph

RESULTS = Path(__file__).resolve().parent / "results" / "graph_cycles.json"


def chain_batch(graph: Graph, size: int) -> float:
    started = time.perf_counter()
    with graph.batch("bench") as b:
        for i in range(size):
            b.add(f"rg://dataset/chain/d{i}")
        for i in range(1, size):
            b.link(f"rg://dataset/chain/d{i}", "derived_from", f"rg://dataset/chain/d{i - 1}")
    return time.perf_counter() - started


def per_edge_check(graph: Graph, size: int) -> float:
    """The old check's queries for the same edges: a walk from each target, hop by hop."""
    engine: Any = graph.store.engine  # type: ignore[attr-defined]
    with engine.connect() as conn:
        ids = dict(conn.execute(text("SELECT uri, id FROM rg_node")).all())
        started = time.perf_counter()
        for i in range(1, size):
            src, dst = ids[f"rg://dataset/chain/d{i}"], ids[f"rg://dataset/chain/d{i - 1}"]
            frontier, seen = {dst}, {dst}
            while frontier and src not in frontier:
                marks = ", ".join(f":i{n}" for n in range(len(frontier)))
                rows = conn.execute(
                    text(f"SELECT dst_id FROM rg_edge WHERE src_id IN ({marks}) "
                         "AND kind = 'derived_from' AND valid_to IS NULL"),
                    {f"i{n}": node for n, node in enumerate(sorted(frontier))})
                frontier = {row[0] for row in rows} - seen
                seen |= frontier
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[250, 500, 1000])
    parser.add_argument("--legacy-max", type=int, default=500,
                        help="replay the per-edge check only up to this chain length")
    args = parser.parse_args()
    rows = []
    print(f"{'chain':>6} {'batch s':>9} {'per-edge check s':>17} {'ratio':>7}")
    for size in args.sizes:
        with tempfile.TemporaryDirectory() as folder:
            graph = Graph.open(f"sqlite:///{Path(folder) / 'graph.db'}")
            try:
                batch_s = chain_batch(graph, size)
                legacy_s = per_edge_check(graph, size) if size <= args.legacy_max else None
            finally:
                graph.close()
        ratio = legacy_s / batch_s if legacy_s is not None else None
        rows.append({"chain": size, "batch_s": round(batch_s, 3),
                     "per_edge_check_s": None if legacy_s is None else round(legacy_s, 3),
                     "per_edge_over_batch": None if ratio is None else round(ratio, 1)})
        print(f"{size:>6} {batch_s:>9.2f} "
              f"{'-' if legacy_s is None else f'{legacy_s:.2f}':>17} "
              f"{'-' if ratio is None else f'{ratio:.1f}x':>7}")
    save({"benchmark": "graph_cycles", "at": datetime.now(UTC).isoformat(),
          "machine": machine(), "rows": rows}, RESULTS)


if __name__ == "__main__":
    main()
