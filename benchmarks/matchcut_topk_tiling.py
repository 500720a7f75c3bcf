"""Why exact top-K falls short of the matrix-multiply peak at low dimension, and what helps.

On 2,048 queries over 100,000 clustered embeddings (``matchcut.embeddings``) at 64, 256 and
512 dimensions, each as a share of the matrix-multiply peak measured in the same run:

- ``gemm only``: the tiled multiplies (1,024 x 8,192) with no selection at all, the ceiling
  of any tiled path, writing each tile into a new tensor (the last stop's path) or into one
  reused buffer (a new 32 MB tensor per tile costs page faults);
- ``topk``: one buffer + ``torch.topk`` on every tile;
- ``prefilter``: one buffer + only the scores above each row's running k-th best gathered
  and merged (``reelgraph.matchcut.exact_top_k``, the default now), at three tile shapes;
- with ``--untiled``, the path before tiling (one GEMM per 4,096 query rows,
  ``argpartition`` over whole rows of N scores).

Times are wall and CPU seconds (this process, every thread); on a shared machine the CPU
figures are the stabler ones (wall time counts the other tenants' turns on the cores).
Selection cost = a path's CPU time minus ``gemm only, one buffer``'s. Every path's
neighbours are compared with the first path's that answers (share of equal indices; ties
may order differently).

    .venv/bin/python benchmarks/matchcut_topk_tiling.py [--dims 64 256 512] [--untiled]
    .venv/bin/python benchmarks/matchcut_topk_tiling.py --threads 1 \
        --out benchmarks/results/matchcut_topk_tiling_1thread.json

Writes ``benchmarks/results/matchcut_topk_tiling.json`` with the load average.
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from machine import machine, versions
from matchcut import Timing, embeddings, matmul_peak, timed
from reelgraph.matchcut import exact_top_k

RESULTS = Path(__file__).resolve().parent / "results" / "matchcut_topk_tiling.json"
N = 100_000
QUERIES = 2048
K = 10
TopK = Callable[[np.ndarray, np.ndarray, int], Any]


def untiled(queries: np.ndarray, base: np.ndarray, k: int, block: int = 4096
            ) -> tuple[np.ndarray, np.ndarray]:
    """The path before tiling: whole rows of scores, then argpartition and a sort."""
    scores = np.empty((len(queries), k), np.float32)
    indices = np.empty((len(queries), k), np.int64)
    for start in range(0, len(queries), block):
        rows = queries[start:start + block] @ base.T
        top = np.argpartition(-rows, k - 1, axis=1)[:, :k]
        top_scores = np.take_along_axis(rows, top, 1)
        order = np.argsort(-top_scores, 1)
        indices[start:start + block] = np.take_along_axis(top, order, 1)
        scores[start:start + block] = np.take_along_axis(top_scores, order, 1)
    return scores, indices


def gemm_only(queries: np.ndarray, base: np.ndarray, k: int, block: int = 1024,
              base_block: int = 8192, reuse: bool = True) -> None:
    """The tiled multiplies alone, into one buffer or a new tensor each: the ceiling of
    any tiled selection."""
    import torch

    q, b = torch.from_numpy(queries), torch.from_numpy(base)
    buffer = torch.empty((block, base_block))
    for start in range(0, len(q), block):
        for offset in range(0, len(b) - base_block + 1, base_block):
            rows, part = q[start:start + block], b[offset:offset + base_block]
            if reuse and len(rows) == block:
                torch.matmul(rows, part.T, out=buffer)
            else:
                rows @ part.T


def best_of(fn: TopK, queries: np.ndarray, base: np.ndarray, repeats: int = 2
            ) -> tuple[Timing, Any]:
    """The shortest wall and the smallest CPU time over the repeats, and the answer."""
    wall = cpu = float("inf")
    answer = None
    for _ in range(repeats):
        took, answer = timed(lambda: fn(queries, base, K))
        wall, cpu = min(wall, took.wall), min(cpu, took.cpu)
    return Timing(wall, cpu), answer


PATHS: dict[str, TopK] = {
    "gemm only, a new tile each": partial(gemm_only, reuse=False),
    "gemm only, one buffer": gemm_only,
    "topk 1024x8192": partial(exact_top_k, prefilter=False),
    "prefilter 1024x8192": exact_top_k,
    "prefilter 2048x4096": partial(exact_top_k, block=2048, base_block=4096),
    "prefilter 512x16384": partial(exact_top_k, block=512, base_block=16384),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dims", type=int, nargs="+", default=[64, 256, 512])
    parser.add_argument("--threads", type=int, default=0,
                        help="torch threads (0: torch's default); 1 keeps CPU time free of "
                             "threads spinning while the other waits for a core")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--untiled", action="store_true",
                        help="also time the path before tiling (slow at 64 dimensions)")
    args = parser.parse_args()
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    load_before = os.getloadavg()[0]
    peak = matmul_peak(3)
    print(f"load average {load_before:.1f}; matmul peak {peak.wall:.1f} GFLOP/s, "
          f"{peak.cpu:.1f} GFLOP per CPU-s")
    rows = []
    for dim in args.dims:
        base = embeddings(N, dim)
        queries = np.ascontiguousarray(base[:QUERIES])
        flop = 2.0 * QUERIES * N * dim
        reference: np.ndarray | None = None
        gemm = Timing(float("nan"), float("nan"))
        paths = {"untiled": untiled, **PATHS} if args.untiled else PATHS
        for name, fn in paths.items():
            took, answer = best_of(fn, queries, base)
            share = took.peak_fraction(flop, peak)
            row: dict[str, Any] = {"dim": dim, "path": name, "seconds": took.wall,
                                   "cpu_seconds": took.cpu, "peak_fraction": share.wall,
                                   "peak_fraction_cpu": share.cpu,
                                   "load_average_1m": round(os.getloadavg()[0], 2)}
            if reference is None and answer is not None:
                reference = answer[1]  # the first path with an answer
            if name == "gemm only, one buffer":
                gemm = took
            elif answer is not None and reference is not None:
                row["same_neighbours"] = float(np.mean(np.asarray(answer[1]) == reference))
                row["selection_cpu_s"] = took.cpu - gemm.cpu
            rows.append(row)
            print(f"100,000 x {dim:<3} {name:>20}: {took.wall:6.2f} s ({took.cpu:6.2f} CPU-s), "
                  f"{share.wall:4.0%} / {share.cpu:4.0%} of peak (wall / CPU)"
                  + (f", selection {row['selection_cpu_s']:5.2f} CPU-s"
                     if "selection_cpu_s" in row else "")
                  + (f", same neighbours {row['same_neighbours']:.4f}"
                     if "same_neighbours" in row else "")
                  + f" (load {row['load_average_1m']})", flush=True)
    args.out.parent.mkdir(exist_ok=True)
    args.out.write_text(json.dumps({
        "when": datetime.now(UTC).isoformat(timespec="seconds"), "machine": machine(),
        "load_average_1m_before": round(load_before, 2), "versions": versions("torch"),
        "torch_threads": torch.get_num_threads(),
        "n": N, "queries": QUERIES, "k": K, "matmul_peak_gflops": peak.wall,
        "matmul_peak_gflops_per_cpu_s": peak.cpu, "paths": rows,
    }, indent=1) + "\n")


if __name__ == "__main__":
    main()
