"""How far does match-cut candidate search scale? Exact top-K against the machine's matrix
multiply peak, FAISS HNSW at recall@10 >= 0.95 against exact, memory, and the extrapolation
to a catalogue of 10,000 titles.

Shot embeddings are synthetic but clustered like real ones (a mixture of 1,000 Gaussian
centres, L2-normalised); random uniform vectors would be the worst case for any ANN index.
For each size (10k, 100k, 1M) and dimension (64-512; 1M at 64 only, to bound the time):

- peak: the best of several float32 4096^3 matrix multiplies (NumPy's BLAS and torch's),
  in GFLOP/s, measured in the same run;
- exact: ``reelgraph.matchcut.exact_top_k`` (1,024 x 8,192 GEMM tiles; per row only the
  scores above its running k-th best are kept and merged, see ``matchcut_topk_tiling.py``) and FAISS
  ``IndexFlatIP`` (GEMM + heap selection) for a sample of ``--queries`` query rows against
  every row; throughput is 2*q*N*d flop over the time, as a fraction of the peak;
- ANN: ``IndexHNSWFlat`` (M=32, efConstruction=80) built over every row below
  ``--ivf-from`` rows, ``IndexIVFFlat`` (nlist = 4*sqrt(N), trained on 50,000 rows) from there
  (HNSW's build takes too long on two cores at 1M); efSearch / nprobe doubled from 16 / 4
  until recall@10 against the exact answer is >= 0.95; speed-up = exact seconds per query /
  ANN seconds per query (best exact path);
- memory: the vectors (N*d*4 bytes), the exact path's working set (one score tile plus the
  running top K, independent of N) and the ANN index as serialized; the process's peak RSS.

    .venv/bin/python benchmarks/matchcut.py                 # ~5-10 minutes on 2 cores
    .venv/bin/python benchmarks/matchcut.py --sizes 10000 --dims 64   # a quick check
    .venv/bin/python benchmarks/matchcut.py --sizes 100000 1000000 --dims 64 --merge
    .venv/bin/python benchmarks/matchcut.py --sizes 10000 100000 --dims 64 256 512 \
        --ivf-from 100000 && .venv/bin/python benchmarks/matchcut.py --sizes 1000000 \
        --dims 64 --queries 1024 --ivf-from 100000 --merge      # the run in the README

Writes ``benchmarks/results/matchcut.json``; records the load average before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from machine import machine, versions
from reelgraph.matchcut import exact_top_k

RESULTS = Path(__file__).resolve().parent / "results" / "matchcut.json"
K = 10
RECALL_GOAL = 0.95
SHOTS_PER_TITLE = 1_500  # a feature film has roughly 1,000-2,000 shots
TITLES = 10_000
TILE = (1024, 8192)  # exact_top_k's default tile: query rows x base rows


def embeddings(n: int, dim: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(1000, dim)).astype(np.float32)
    rows = centres[rng.integers(0, 1000, n)] + 0.6 * rng.normal(size=(n, dim)).astype(
        np.float32)
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    return rows


class Timing(NamedTuple):
    """Wall seconds and this process's CPU seconds (every thread) of one call."""

    wall: float
    cpu: float

    def peak_fraction(self, flop: float, peak: Peak) -> Timing:
        """Throughput as a share of the peak, by wall time and by CPU time."""
        return Timing(flop / self.wall / 1e9 / peak.wall, flop / self.cpu / 1e9 / peak.cpu)


class Peak(NamedTuple):
    """The machine's float32 matrix-multiply peak: GFLOP per wall second, and per CPU second
    (the stabler figure when other work shares the cores: it counts only our own time)."""

    wall: float
    cpu: float


def timed(fn: Any) -> tuple[Timing, Any]:
    start, cpu = time.perf_counter(), time.process_time()
    value = fn()
    return Timing(time.perf_counter() - start, time.process_time() - cpu), value


def matmul_peak(repeats: int = 5) -> Peak:
    """The best float32 4096^3 multiply of NumPy's BLAS and torch's."""
    import torch

    a = np.random.default_rng(1).random((4096, 4096), dtype=np.float32)
    t = torch.from_numpy(a)
    wall = cpu = float("inf")
    for multiply in (lambda: a @ a, lambda: t @ t):
        for _ in range(repeats):
            took, _ = timed(multiply)
            wall, cpu = min(wall, took.wall), min(cpu, took.cpu)
    return Peak(2 * 4096**3 / wall / 1e9, 2 * 4096**3 / cpu / 1e9)


def recall(found: np.ndarray, truth: np.ndarray) -> float:
    return float(np.mean([len(set(f) & set(t)) / len(t) for f, t in zip(found, truth,
                                                                          strict=True)]))


def case(n: int, dim: int, queries: int, peak: Peak, ivf_from: int) -> dict[str, Any]:
    import faiss

    base = embeddings(n, dim)
    sample = base[np.random.default_rng(2).choice(n, queries, replace=False)]
    flop = 2.0 * queries * n * dim
    reelgraph, (_, truth) = timed(lambda: exact_top_k(sample, base, K))
    flat = faiss.IndexFlatIP(dim)
    flat.add(base)
    faiss_time, _ = timed(lambda: flat.search(sample, K))
    exact = min(reelgraph, faiss_time)
    ivf = n >= ivf_from
    build, index = timed(lambda: _ivf(base) if ivf else _hnsw(base))
    ann: dict[str, Any] = {}
    knob = 4 if ivf else 16
    while knob <= 1024:
        if ivf:
            index.nprobe = knob
        else:
            index.hnsw.efSearch = knob
        took, (_, found) = timed(lambda: index.search(sample, K))
        ann = {"index": "ivf-flat" if ivf else "hnsw", "nprobe" if ivf else "ef_search": knob,
               "recall_at_10": recall(found, truth), "seconds": took.wall,
               "cpu_seconds": took.cpu}
        if ann["recall_at_10"] >= RECALL_GOAL:
            break
        knob *= 2
    row = {
        "n": n, "dim": dim, "queries": queries,
        "exact_reelgraph_s": reelgraph.wall, "exact_reelgraph_cpu_s": reelgraph.cpu,
        "exact_faiss_s": faiss_time.wall, "exact_faiss_cpu_s": faiss_time.cpu,
        "exact_reelgraph_peak_fraction": reelgraph.peak_fraction(flop, peak).wall,
        "exact_reelgraph_peak_fraction_cpu": reelgraph.peak_fraction(flop, peak).cpu,
        "exact_faiss_peak_fraction": faiss_time.peak_fraction(flop, peak).wall,
        "exact_faiss_peak_fraction_cpu": faiss_time.peak_fraction(flop, peak).cpu,
        "exact_all_pairs_s_extrapolated": exact.wall * n / queries,
        "hnsw_build_s": build.wall, "hnsw_build_cpu_s": build.cpu, "hnsw": ann,
        "ann_speedup": exact.wall / ann["seconds"],
        "ann_speedup_cpu": min(reelgraph.cpu, faiss_time.cpu) / ann["cpu_seconds"],
        "vectors_mb": base.nbytes / 2**20,
        "exact_working_mb": (TILE[0] * TILE[1] * 4 + TILE[0] * K * 12) / 2**20,
        "peak_rss_mb_so_far": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10,
        "load_average_1m": round(os.getloadavg()[0], 2),
        "matmul_peak_gflops": peak.wall, "matmul_peak_gflops_per_cpu_s": peak.cpu,
        "hnsw_index_mb": len(faiss.serialize_index(index)) / 2**20,
    }
    exact_s = exact.wall
    build_s = build.wall
    print(f"{n:>9,} x {dim:<3}: exact {exact_s / queries * 1e3:7.3f} ms/query "
          f"(reelgraph {row['exact_reelgraph_peak_fraction']:.0%} / "
          f"{row['exact_reelgraph_peak_fraction_cpu']:.0%}, faiss "
          f"{row['exact_faiss_peak_fraction']:.0%} / {row['exact_faiss_peak_fraction_cpu']:.0%}"
          f" of peak by wall / CPU time); {ann['index']} "
          f"recall@10 {ann['recall_at_10']:.3f}, {row['ann_speedup']:.1f}x faster, "
          f"build {build_s:.1f} s, {row['hnsw_index_mb']:.0f} MB")
    return row


def _ivf(base: np.ndarray) -> Any:
    import faiss

    lists = int(4 * np.sqrt(len(base)))
    quantizer = faiss.IndexFlatIP(base.shape[1])
    index = faiss.IndexIVFFlat(quantizer, base.shape[1], lists, faiss.METRIC_INNER_PRODUCT)
    sample = base[np.random.default_rng(3).choice(len(base), min(len(base), 50_000),
                                                  replace=False)]
    index.train(sample)
    index.add(base)
    return index


def _hnsw(base: np.ndarray) -> Any:
    import faiss

    index = faiss.IndexHNSWFlat(base.shape[1], 32, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = 80
    index.add(base)
    return index


def extrapolate(rows: list[dict[str, Any]], peak: Peak) -> dict[str, Any]:
    """A 10,000-title catalogue, from the largest measured case at 64 dimensions, in CPU
    time (what the work costs, whatever else shares the machine)."""
    largest = max((r for r in rows if r["dim"] == 64), key=lambda r: r["n"])
    shots = TITLES * SHOTS_PER_TITLE
    all_pairs_flop = 2.0 * shots * shots * 64
    cpu_per_flop = min(largest["exact_reelgraph_cpu_s"], largest["exact_faiss_cpu_s"]) / (
        2.0 * largest["queries"] * largest["n"] * 64)
    ann_per_query = largest["hnsw"]["cpu_seconds"] / largest["queries"]
    # HNSW search grows roughly with log N: scale by the ratio of logs
    ann_scale = np.log(shots) / np.log(largest["n"])  # HNSW; IVF grows faster (sqrt N)
    return {
        "titles": TITLES, "shots_per_title": SHOTS_PER_TITLE, "shots": shots, "dim": 64,
        "pairs": shots * (shots - 1) // 2,
        "exact_all_pairs_cpu_hours": all_pairs_flop * cpu_per_flop / 3600,
        "exact_at_peak_cpu_hours": all_pairs_flop / (peak.cpu * 1e9) / 3600,
        "ann_index": largest["hnsw"]["index"],
        "ann_all_queries_cpu_hours": shots * ann_per_query * ann_scale / 3600,
        "ann_all_queries_cpu_hours_sqrt_scaling": shots * ann_per_query
        * np.sqrt(shots / largest["n"]) / 3600,
        "vectors_gb": shots * 64 * 4 / 2**30,
        "ann_index_gb": largest["hnsw_index_mb"] / largest["n"] * shots / 2**10,
        "exact_working_mb": largest["exact_working_mb"],
        "new_title_exact_cpu_s": 2.0 * SHOTS_PER_TITLE * shots * 64 * cpu_per_flop,
        "new_title_ann_cpu_s": SHOTS_PER_TITLE * ann_per_query * ann_scale,
        "basis": f"measured at {largest['n']:,} x 64 on this machine, {largest['queries']} "
                 "sampled queries, CPU seconds; ANN time per query scaled by log(N) "
                 "(HNSW-like) and, as a pessimistic bound, by sqrt(N) (IVF at a fixed "
                 "recall); exact memory is one score tile, whatever N",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--dims", type=int, nargs="+", default=[64, 256, 512])
    parser.add_argument("--queries", type=int, default=2048)
    parser.add_argument("--max-dim-at-1m", type=int, default=64)
    parser.add_argument("--ivf-from", type=int, default=500_000,
                        help="IVF-Flat instead of HNSW from this many rows")
    parser.add_argument("--merge", action="store_true",
                        help="keep the saved cases of other sizes/dimensions")
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    peak = matmul_peak()
    print(f"matmul peak: {peak.wall:.1f} GFLOP/s, {peak.cpu:.1f} GFLOP per CPU-s (float32, "
          "4096^3, best of 5)")
    rows = [case(n, dim, min(args.queries, n), peak, args.ivf_from)
            for n in args.sizes for dim in args.dims
            if n < 1_000_000 or dim <= args.max_dim_at_1m]
    if args.merge and RESULTS.exists():
        done = {(r["n"], r["dim"]) for r in rows}
        rows = [r for r in json.loads(RESULTS.read_text())["cases"]
                if (r["n"], r["dim"]) not in done] + rows
        rows.sort(key=lambda r: (r["n"], r["dim"]))
    summary = extrapolate(rows, peak)
    print(f"10,000 titles ({summary['shots']:,} shots): exact all pairs "
          f"{summary['exact_all_pairs_cpu_hours']:,.0f} CPU-hours (at peak "
          f"{summary['exact_at_peak_cpu_hours']:,.0f}), {summary['ann_index']} "
          f"{summary['ann_all_queries_cpu_hours']:,.1f} CPU-hours; vectors "
          f"{summary['vectors_gb']:.1f} GB, index {summary['ann_index_gb']:.1f} GB")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps({
        "when": datetime.now(UTC).isoformat(timespec="seconds"), "machine": machine(),
        "load_average_1m_before": round(load_before, 2),
        "versions": versions("numpy", "faiss-cpu"), "k": K, "recall_goal": RECALL_GOAL,
        "matmul_peak_gflops": peak.wall, "matmul_peak_gflops_per_cpu_s": peak.cpu,
        "cases": rows, "catalogue": summary,
    }, indent=1) + "\n")


if __name__ == "__main__":
    main()
