"""Do full garbage collections still stall a loaded server's requests?

Issue 16's follow-up. A loaded server holds a few hundred thousand long-lived objects (the
model, the graph, FastAPI); CPython's generation-2 pass walks them all, and ``load.py`` saw
graph reads stall 150-260 ms now and then. The server now freezes each loaded version
(``reelgraph.serving.heap``). Each child process opens the real app
(``create_app`` over a home with a trained, promoted model, the lifespan that loads it),
waits for the model, then sends ``--requests`` in-process requests (graph reads and the four
recommend canvases in turn) while ``gc.callbacks`` time every collection. ``frozen`` is the
server as shipped; ``unfrozen`` is the same process with ``gc.unfreeze()`` called once the
model is in (the server before this change). The two take turns ``--repeats`` times, so
machine load hits both alike. Figures: generation-2 collections and their pauses, request
latency p50 / p99 / max, and the cost of one forced full collection at the end.

    .venv/bin/python benchmarks/gc_pause.py                 # ~3 min (+ training once)
    .venv/bin/python benchmarks/gc_pause.py --requests 500 --repeats 1   # quick check
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from load import CANVASES, prepare_home
from machine import machine, save, versions

HERE = Path(__file__).resolve().parent
WORK = HERE / "work" / "gc_pause"
RESULTS = HERE / "results" / "gc_pause.json"
MODES = ("unfrozen", "frozen")


class Pauses:
    """Times every garbage collection of this process, by generation."""

    def __init__(self) -> None:
        self.by_generation: dict[int, list[float]] = {0: [], 1: [], 2: []}
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.by_generation[info["generation"]].append(
                (time.perf_counter() - self._started) * 1e3)


def child(home: Path, mode: str, requests: int) -> dict[str, Any]:
    """One server process: load, (un)freeze, drive requests, time the collections."""
    from fastapi.testclient import TestClient

    from reelgraph.api import create_app
    from reelgraph.core import Settings

    settings = Settings.load(home=str(home), database_url="")
    with TestClient(create_app(settings)) as client:
        deadline = time.monotonic() + 600
        body = {"canvas": "related", "item": "1", "k": 10}
        while client.post("/api/v1/recommend", json=body).status_code != 200:
            if time.monotonic() > deadline:
                raise SystemExit("the model did not load in 10 minutes")
            time.sleep(0.5)
        time.sleep(1.0)  # the watcher's swap settles the heap right after loading
        frozen_at_start = gc.get_freeze_count()
        if mode == "unfrozen":
            gc.unfreeze()
        uris = [node.uri for node in client.app.state.reelgraph.graph.find(limit=200)]
        if not uris:
            raise SystemExit("the home's graph has no node to read")
        pauses = Pauses()
        gc.callbacks.append(pauses)
        latencies = []
        for i in range(requests):
            started = time.perf_counter()
            if i % 2:
                client.get("/api/v1/graph/lineage", params={"uri": uris[i % len(uris)],
                                                            "depth": 3})
            else:
                canvas = CANVASES[(i // 2) % len(CANVASES)]
                ask: dict[str, Any] = {"canvas": canvas, "k": 10, "user": "1", "item": "1"}
                if canvas == "search":
                    ask["query"] = "star"
                if canvas == "category":
                    ask["category"] = "Comedy"
                client.post("/api/v1/recommend", json=ask)
            latencies.append((time.perf_counter() - started) * 1e3)
        gc.callbacks.remove(pauses)
        started = time.perf_counter()
        gc.collect()
        forced_ms = (time.perf_counter() - started) * 1e3
        tracked = len(gc.get_objects())
    full = pauses.by_generation[2]
    return {
        "mode": mode,
        "frozen_objects_at_start": frozen_at_start,
        "tracked_objects_at_end": tracked,
        "requests": requests,
        "latency_ms": {q: round(float(np.percentile(latencies, p)), 2)
                       for q, p in (("p50", 50), ("p99", 99), ("p999", 99.9))}
        | {"max": round(max(latencies), 2)},
        "gen2_collections": len(full),
        "gen2_pause_ms_max": round(max(full, default=0.0), 2),
        "gen2_pause_ms_total": round(sum(full), 2),
        "gen01_pause_ms_total": round(sum(pauses.by_generation[0] + pauses.by_generation[1]), 2),
        "forced_full_collection_ms": round(forced_ms, 2),
        "load_average_1m": round(os.getloadavg()[0], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--child", choices=MODES, help=argparse.SUPPRESS)
    parser.add_argument("--home", type=Path, default=WORK / "home", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.home, args.child, args.requests)))
        return
    load_start = round(os.getloadavg()[0], 2)
    model = prepare_home(args.home, args.seed)
    runs: list[dict[str, Any]] = []
    for repeat in range(args.repeats):
        for mode in MODES:
            done = subprocess.run(
                [sys.executable, __file__, "--child", mode, "--home", str(args.home),
                 "--requests", str(args.requests)],
                check=True, stdout=subprocess.PIPE, text=True, cwd=HERE)
            run = json.loads(done.stdout.strip().splitlines()[-1]) | {"repeat": repeat}
            print(json.dumps(run))
            runs.append(run)

    def worst(mode: str, key: str) -> float:
        return max(float(r[key]) for r in runs if r["mode"] == mode)

    summary = {mode: {key: worst(mode, key) for key in
                      ("gen2_collections", "gen2_pause_ms_max", "forced_full_collection_ms")}
               | {"latency_ms_max": max(r["latency_ms"]["max"] for r in runs
                                        if r["mode"] == mode),
                  "latency_ms_p999": max(r["latency_ms"]["p999"] for r in runs
                                         if r["mode"] == mode)}
               for mode in MODES}
    save({"question": __doc__.split("\n\n")[0], "model": model, "runs": runs,
          "summary_worst_of_repeats": summary,
          "load_average_1m": {"start": load_start, "end": round(os.getloadavg()[0], 2)},
          "machine": machine(), "versions": versions("torch", "fastapi")}, args.output)
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
