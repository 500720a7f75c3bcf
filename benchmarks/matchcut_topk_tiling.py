"""Exact top-K before and after tiling: the old path (one GEMM per 4,096 query rows, then
``argpartition`` over whole rows of N scores) against ``reelgraph.matchcut.exact_top_k``
(GEMM tiles of 1,024 x 8,192 with a running ``torch.topk``), on 2,048 queries over 100,000
clustered embeddings at 64, 256 and 512 dimensions, each as a share of the matrix-multiply
peak measured in the same run (NumPy's and torch's best), and whether they agree.

    .venv/bin/python benchmarks/matchcut_topk_tiling.py
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

import numpy as np

from matchcut import embeddings, matmul_peak
from reelgraph.matchcut import exact_top_k

QUERIES = 2048
K = 10
TopK = Callable[[np.ndarray, np.ndarray, int], tuple[np.ndarray, np.ndarray]]


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


def best_seconds(fn: TopK, queries: np.ndarray, base: np.ndarray, repeats: int = 2) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn(queries, base, K)
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    print(f"load average {os.getloadavg()}")
    peak = matmul_peak(3)
    print(f"matmul peak {peak:.1f} GFLOP/s")
    for dim in (64, 256, 512):
        base = embeddings(100_000, dim)
        queries = base[:QUERIES]
        flop = 2.0 * QUERIES * len(base) * dim
        for name, fn in (("untiled", untiled), ("tiled", exact_top_k)):
            seconds = best_seconds(fn, queries, base)
            print(f"100,000 x {dim}: {name:>7} {seconds:6.2f} s, "
                  f"{flop / seconds / 1e9 / peak:.0%} of peak")
        agree = np.mean(untiled(queries, base, K)[1] == exact_top_k(queries, base, K)[1])
        print(f"  same neighbours: {agree:.4f}")


if __name__ == "__main__":
    main()
