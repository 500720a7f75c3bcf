"""Does a served request's CPU time grow as the simulated run goes on, or with the machine?

The recsysops clean run on ml-100k once saw p50 CPU per request creep from 3.1 to 4.9 ms.
This replays that run's traffic (``recsysops.Sim``: same model, same requests, with the
impression log, overlay and checks) and measures each request's thread CPU time three ways:

1. in order, over the simulated days, checks running (state growing as in the benchmark);
2. the same requests, shuffled, in a fresh service (no accumulated state);
3. a fixed sample of them in a fresh service, alternating blocks alone and beside two
   CPU-bound processes (the shared machine's other work).

If (1) rises by day while (2) is flat by the day a request came from, something grows with
the run; if (3) moves by as much, the machine explains it.

    python benchmarks/request_cpu.py                 # ml-100k, about 4 minutes
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

import recsysops as ops_bench
from machine import machine
from reelgraph.core import Settings
from reelgraph.flows import Workspace

RESULTS = Path(__file__).resolve().parent / "results" / "request_cpu.json"
HOG = "import numpy as np\na = np.random.rand(600, 600)\nwhile True:\n    a @ a\n"
Request = tuple[int, str, dict[str, Any]]  # quarter, canvas, arguments


def fresh_sim(world: ops_bench.World, home: Path) -> ops_bench.Sim:
    sim = ops_bench.Sim(world, home)
    home.mkdir(parents=True)
    with Workspace.open(Settings.load(home=str(home), database_url="")) as ws:
        ops_bench.seed_graph(ws)
        ops_bench.register(ws, world.good, home / "bundles", "first release",
                           list(ops_bench.FEATURES.values()))
    sim.open()
    return sim


def cpu_ms(sim: ops_bench.Sim, request: Request) -> float:
    quarter, canvas, arguments = request
    sim.clock.now = ops_bench.EPOCH + quarter * ops_bench.QUARTER
    begun = time.thread_time()
    sim.service.recommend(canvas, **arguments)
    return (time.thread_time() - begun) * 1e3


def in_order(world: ops_bench.World, home: Path, days: int, reference: int
             ) -> tuple[list[Request], list[float]]:
    """The clean run as the benchmark plays it; each request's CPU, in order."""
    sim = fresh_sim(world, home)
    monitors = ops_bench.add_monitors(sim)
    requests: list[Request] = []
    spent: list[float] = []
    serve = sim.service.recommend
    quarter = 0

    def timed(canvas: str, **arguments: Any) -> Any:
        requests.append((quarter, canvas, arguments))
        begun = time.thread_time()
        try:
            return serve(canvas, **arguments)
        finally:
            spent.append((time.thread_time() - begun) * 1e3)

    sim.service.recommend = timed  # type: ignore[method-assign]
    rng = np.random.default_rng(0)
    for quarter in range(days * 4):
        sim.quarter(quarter, rng)
        if quarter == reference * 4 - 1:
            for uri in monitors:
                sim.ops.learn(uri, ops_bench.quarter_ends(1, reference)[1:])
        if quarter >= reference * 4:
            sim.ops.check(ops_bench.EPOCH + (quarter + 1) * ops_bench.QUARTER)
    sim.close()
    return requests, spent


def by_block(requests: list[Request], spent: list[float], days: int, block: int
             ) -> list[dict[str, Any]]:
    quarters = np.array([q for q, _, _ in requests])
    values = np.array(spent)
    return [{"days": f"{d}-{d + block - 1}",
             "p50_cpu_ms": round(float(np.median(values[(quarters >= d * 4)
                                                        & (quarters < (d + block) * 4)])), 3)}
            for d in range(0, days, block)]


def with_cotenants(sim: ops_bench.Sim, sample: list[Request], rounds: int
                   ) -> dict[str, list[float]]:
    found: dict[str, list[float]] = {"alone": [], "beside_two_busy_processes": []}
    for _ in range(rounds):
        found["alone"].append(float(np.median([cpu_ms(sim, r) for r in sample])))
        hogs = [subprocess.Popen([sys.executable, "-c", HOG]) for _ in range(2)]
        try:
            time.sleep(1.0)
            found["beside_two_busy_processes"].append(
                float(np.median([cpu_ms(sim, r) for r in sample])))
        finally:
            for hog in hogs:
                hog.kill()
                hog.wait()
    return {k: [round(v, 3) for v in values] for k, values in found.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="ml-100k", choices=list(ops_bench.DATASETS))
    parser.add_argument("--days", type=int, default=56)
    parser.add_argument("--reference", type=int, default=14)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cache", type=Path, default=None)
    args = parser.parse_args()
    load_start = round(os.getloadavg()[0], 2)
    world = ops_bench.build_world(args.dataset, ops_bench.DATASETS[args.dataset], args.days,
                                  args.cache)
    root = Path(tempfile.mkdtemp(prefix="request-cpu-"))
    try:
        requests, spent = in_order(world, root / "in-order", args.days, args.reference)
        sim = fresh_sim(world, root / "fresh")
        order = np.random.default_rng(1).permutation(len(requests))
        shuffled = [0.0] * len(requests)
        for i in order:
            shuffled[i] = cpu_ms(sim, requests[i])
        sample = [requests[i] for i in order[:300]]
        machine_effect = with_cotenants(sim, sample, args.rounds)
        sim.close()
    finally:
        shutil.rmtree(root, ignore_errors=True)
    ordered = by_block(requests, spent, args.days, 4)
    again = by_block(requests, shuffled, args.days, 4)
    body = {
        "benchmark": "request_cpu",
        "question": __doc__.splitlines()[0],
        "method": __doc__,
        "args": {k: str(v) for k, v in vars(args).items()},
        "requests": len(requests),
        "in_order_by_4_days": ordered,
        "fresh_service_shuffled_by_4_days": again,
        "p50_cpu_ms_of_300_requests": machine_effect,
        "load_average_1m": {"start": load_start, "end": round(os.getloadavg()[0], 2)},
        "machine": machine(),
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    for key, blocks in (("in order", ordered), ("fresh, shuffled", again)):
        print(f"p50 CPU ms by 4 days, {key}:", " ".join(f"{b['p50_cpu_ms']:.2f}"
                                                       for b in blocks))
    print("p50 CPU ms, 300 requests:", machine_effect)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(body, indent=2) + "\n")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
