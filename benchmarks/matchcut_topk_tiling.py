"""Why exact top-K falls short of the matrix-multiply peak at low dimension, and what helps.

On 2,048 queries over 100,000 clustered embeddings (``matchcut.embeddings``) at 64, 256 and
512 dimensions, each as a share of the matrix-multiply peak measured in the same run:

- ``untiled``: the path before tiling (one GEMM per 4,096 query rows, ``argpartition`` over
  whole rows of N scores);
- ``gemm only``: the tiled multiplies with no selection at all, the ceiling of any tiled
  path (what the multiply itself reaches at this shape);
- ``topk``: tiles + ``torch.topk`` on every tile (the path of the last stop);
- ``prefilter``: tiles + only the scores above each row's running k-th best are gathered and
  merged (``reelgraph.matchcut.exact_top_k``, the default now), at several tile shapes.

Selection cost = a path's time minus ``gemm only``'s. Every path's neighbours are compared
with the untiled path's (share of equal indices; ties may order differently).

    .venv/bin/python benchmarks/matchcut_topk_tiling.py [--dims 64 256 512]

Writes ``benchmarks/results/matchcut_topk_tiling.json`` with the load average.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from machine import machine, versions
from matchcut import embeddings, matmul_peak
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
              base_block: int = 8192) -> None:
    """The tiled multiplies alone: the ceiling of any tiled selection."""
    import torch

    q, b = torch.from_numpy(queries), torch.from_numpy(base)
    for start in range(0, len(q), block):
        for offset in range(0, len(b), base_block):
            q[start:start + block] @ b[offset:offset + base_block].T


def best_seconds(fn: TopK, queries: np.ndarray, base: np.ndarray, repeats: int = 2
                 ) -> tuple[float, Any]:
    best, answer = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        answer = fn(queries, base, K)
        best = min(best, time.perf_counter() - start)
    return best, answer


PATHS: dict[str, TopK] = {
    "untiled": untiled,
    "gemm only 1024x8192": gemm_only,
    "topk 1024x8192": partial(exact_top_k, prefilter=False),
    "prefilter 1024x8192": exact_top_k,
    "prefilter 512x4096": partial(exact_top_k, block=512, base_block=4096),
    "prefilter 2048x4096": partial(exact_top_k, block=2048, base_block=4096),
    "prefilter 256x16384": partial(exact_top_k, block=256, base_block=16384),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dims", type=int, nargs="+", default=[64, 256, 512])
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    peak = matmul_peak(3)
    print(f"load average {load_before:.1f}; matmul peak {peak:.1f} GFLOP/s")
    rows = []
    for dim in args.dims:
        base = embeddings(N, dim)
        queries = np.ascontiguousarray(base[:QUERIES])
        flop = 2.0 * QUERIES * N * dim
        reference: np.ndarray | None = None
        gemm_s = float("nan")
        for name, fn in PATHS.items():
            seconds, answer = best_seconds(fn, queries, base)
            row: dict[str, Any] = {"dim": dim, "path": name, "seconds": seconds,
                                   "peak_fraction": flop / seconds / 1e9 / peak,
                                   "load_average_1m": round(os.getloadavg()[0], 2)}
            if name == "untiled":
                reference = answer[1]
            if name.startswith("gemm"):
                gemm_s = seconds
            elif answer is not None and reference is not None:
                row["same_neighbours"] = float(np.mean(np.asarray(answer[1]) == reference))
                row["selection_s"] = seconds - gemm_s
            rows.append(row)
            print(f"100,000 x {dim:<3} {name:>20}: {seconds:6.2f} s, "
                  f"{row['peak_fraction']:4.0%} of peak"
                  + (f", selection {row['selection_s']:5.2f} s" if "selection_s" in row
                     else "")
                  + (f", same neighbours {row['same_neighbours']:.4f}"
                     if "same_neighbours" in row else "")
                  + f" (load {row['load_average_1m']})", flush=True)
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps({
        "when": datetime.now(UTC).isoformat(timespec="seconds"), "machine": machine(),
        "load_average_1m_before": round(load_before, 2), "versions": versions("torch"),
        "n": N, "queries": QUERIES, "k": K, "matmul_peak_gflops": peak, "paths": rows,
    }, indent=1) + "\n")


if __name__ == "__main__":
    main()
