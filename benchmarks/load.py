"""How much open-loop load does one server sustain on the graph reads and on recommend
before its p99 passes 100 ms, with no errors, and does its memory stay put?

Issue 16's must-show. ``reelgraph --home HOME serve`` (one worker, the product's defaults:
``max_in_flight`` and ``max_queue_seconds``, so past saturation it sheds load with 503
instead of queueing) runs in a subprocess over a home holding a small trained and promoted
unified recommender (ml-latest-small, ``--epochs`` 1, dim 16, 5,000 training examples:
latency does not depend on quality) and the graph its training wrote (datasets, runs, the
model version and their lineage).

Two mixes, each at rising ``--rates`` until a step's p99 passes ``--p99-ms`` (that step is
recorded too), then one step at ``--overload`` (2) times the sustained rate. ``graph``
rotates GET node, lineage, impact, search (current) and search ``as_of`` over the graph's
real URIs; ``recommend`` rotates POST /api/v1/recommend over the four canvases with real
users, items, categories and titles. Requests go out on a fixed schedule whatever the
answers do (the open-loop client of ``serving.py``: latency measured from the scheduled
send, no coordinated omission). Per step: p50/p99, achieved rate, errors
(anything but 200, or no answer) by kind, the share shed (503) and the p99 of the 200s
alone. The sustained rate of a mix is its highest step with p99 <= the limit and 0 errors;
past it the server should shed a share with fast 503s and keep the p99 of what it answers
bounded (``api/admission.py``). Server memory (RSS of the server and its workers) is read
after warm-up and after the ramps, then through a soak: both mixes at a constant rate (half
the lower sustained rate, or of the first rate where none was) for ``--soak-seconds``, read
every ``--soak-window`` seconds, so growth that stops (warm-up) is told from growth that goes
on.

    .venv/bin/python benchmarks/load.py                       # ~8 min (+ training once)
    .venv/bin/python benchmarks/load.py --rates 20,40 --seconds 2 --warmup 50 \
        --soak-seconds 10 --soak-window 5                     # quick check

The machine is shared: the load average is recorded with every step; the client shares the
cores with the server. Compare rates within one run, not across runs.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from latency import Outcome, achieved, percentiles, scheduled_latency_ms
from machine import machine, save
from reelgraph.core import Settings
from reelgraph.flows import Workspace
from reelgraph.flows.registry import ModelRegistry
from reelgraph.graph import Graph
from reelgraph.recsys import MODEL, UnifiedRecommender, train_and_register
from serving import (
    CLI,
    DATA,
    Client,
    client_options,
    free_port,
    get,
    post,
    stop_server,
    wait_ready,
)

HERE = Path(__file__).resolve().parent
WORK = HERE / "work" / "load"
RESULTS = HERE / "results" / "load.json"
WHO = "benchmarks/load.py"
CANVASES = ("related", "search", "category", "notifications")


def prepare_home(home: Path, seed: int) -> dict[str, Any]:
    """A small model trained, registered and in production (memoized by the flow cache)."""
    started = time.perf_counter()
    with Workspace.open(Settings.load(home=str(home), database_url="")) as ws:
        outcome = train_and_register(ws, DATA, epochs=1, dim=16, max_train=5_000,
                                     max_eval=500, seed=seed, who=WHO)
        registry = ModelRegistry(ws)
        number = outcome.version.version
        stage = registry.version(MODEL, number).stage
        for wanted in ("staging", "production"):
            if stage != "production" and stage != wanted:
                registry.promote(MODEL, number, wanted, who=WHO)
                stage = wanted
    return {"version": number, "prepare_seconds": round(time.perf_counter() - started, 1)}


def graph_requests(home: Path, host: str, port: int, n: int) -> list[bytes]:
    """Graph reads over the home's real nodes, rotating endpoints."""
    graph = Graph.open(Settings.load(home=str(home), database_url="").metadata_url)
    try:
        uris = [node.uri for node in graph.find(limit=200)]
    finally:
        graph.close()
    words = ["ratings", "unified", "movies", "model", "run"]
    paths: list[Callable[[int], str]] = [
        lambda i: "/api/v1/graph/node?" + urllib.parse.urlencode({"uri": uris[i % len(uris)]}),
        lambda i: "/api/v1/graph/lineage?" + urllib.parse.urlencode(
            {"uri": uris[i % len(uris)], "depth": 3}),
        lambda i: "/api/v1/graph/impact?" + urllib.parse.urlencode({"uri": uris[i % len(uris)]}),
        lambda i: "/api/v1/graph/search?q=" + words[i % len(words)],
        lambda i: "/api/v1/graph/search?" + urllib.parse.urlencode(
            {"q": words[i % len(words)], "as_of": "2100-01-01T00:00:00Z"}),
    ]
    return [get(host, port, paths[i % len(paths)](i)) for i in range(n)]


def recommend_requests(home: Path, host: str, port: int, n: int) -> list[bytes]:
    """Recommend bodies over the model's real users, items, categories and titles."""
    with Workspace.open(Settings.load(home=str(home), database_url="")) as ws:
        recommender = UnifiedRecommender.from_registry(ModelRegistry(ws), MODEL)
    vocabulary = recommender.vocabulary
    users, items = vocabulary.user_ids, vocabulary.item_ids
    bodies: list[dict[str, Any]] = []
    for i in range(n):
        canvas = CANVASES[i % len(CANVASES)]
        body: dict[str, Any] = {"canvas": canvas, "k": 10}
        if canvas == "related":
            body["item"] = items[(i * 7919) % len(items)]
        else:
            body["user"] = users[(i * 104729) % len(users)]
        if canvas == "category":
            body["category"] = vocabulary.categories[i % len(vocabulary.categories)]
        if canvas == "search":
            body["query"] = vocabulary.titles[(i * 31) % len(vocabulary.titles)][:12]
        bodies.append(body)
    return [post(host, port, b) for b in bodies]


def rss_mb(pid: int) -> float:
    """Resident memory of the server and its child processes, in MiB."""
    total = 0
    for entry in [Path(f"/proc/{pid}"), *Path("/proc").glob("[0-9]*")]:
        with contextlib.suppress(OSError, ValueError, IndexError):
            status = (entry / "status").read_text()
            fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
            if entry.name == str(pid) or int(fields["PPid"]) == pid:
                total += int(fields["VmRSS"].split()[0])
    return round(total / 1024, 1)


def step(outcomes: list[Outcome], rate: float, load: tuple[float, float]) -> dict[str, Any]:
    latency = percentiles(scheduled_latency_ms(outcomes))
    answered = percentiles(scheduled_latency_ms([o for o in outcomes if o.status == 200]))
    found = achieved(outcomes)
    shed = found["error_kinds"].get("503", 0)
    return {"rate": rate, "requests": len(outcomes), **found,
            "p50_ms": latency["p50_ms"], "p99_ms": latency["p99_ms"], "max_ms": latency["max_ms"],
            # what a client that gets an answer sees, and what the shedding cost
            "p99_200_ms": answered["p99_ms"], "max_200_ms": answered["max_ms"],
            "shed_share": round(shed / len(outcomes), 3),
            "errors_not_503": found["errors"] - shed,
            "load_average_1m": {"before": load[0], "after": load[1]}}


async def window(client: Client, payloads: list[bytes], rate: float, args: argparse.Namespace
                 ) -> dict[str, Any]:
    """One open-loop step of ``args.seconds`` at ``rate``, after ``args.pause`` of quiet."""
    n = max(1, round(rate * args.seconds))
    batch = [payloads[i % len(payloads)] for i in range(n)]
    await asyncio.sleep(args.pause)
    before = round(os.getloadavg()[0], 2)
    outcomes = await client.load(batch, rate, args.drain)
    found = step(outcomes, rate, (before, round(os.getloadavg()[0], 2)))
    print(f"  {rate:>6g}/s: p50 {found['p50_ms']:7.1f} ms  p99 {found['p99_ms']:8.1f} ms  "
          f"p99 of 200s {found['p99_200_ms']:8.1f} ms  shed {found['shed_share']:.0%}  "
          f"errors {found['errors']} {found['error_kinds'] or ''}", flush=True)
    return found


async def ramp(client: Client, payloads: list[bytes], args: argparse.Namespace
               ) -> dict[str, Any]:
    """Rising rates until p99 passes the limit; then ``--overload`` times the sustained rate
    (or the first rate, if none was sustained): past saturation, what is shed and how long
    the answered requests took."""
    steps = []
    for rate in args.rates:
        steps.append(await window(client, payloads, rate, args))
        if steps[-1]["p99_ms"] > args.p99_ms:
            break
    ok = [s["rate"] for s in steps if s["p99_ms"] <= args.p99_ms and s["errors"] == 0]
    sustained = max(ok, default=0.0)
    print(f"  overload, {args.overload:g}x the sustained rate:", flush=True)
    overload = await window(client, payloads, args.overload * (sustained or args.rates[0]),
                            args)
    return {"sustained_rate": sustained, "steps": steps, "overload": overload}


async def soak(pid: int, client: Client, payloads: list[bytes], rate: float,
               args: argparse.Namespace) -> dict[str, Any]:
    """A constant ``rate`` for ``--soak-seconds`` in windows of ``--soak-window`` seconds,
    server memory read after each: growth that keeps going is a leak, growth that stops
    was warm-up."""
    windows, rss = [], [rss_mb(pid)]
    left = args.soak_seconds
    while left > 0:
        seconds = min(args.soak_window, left)
        n = max(1, round(rate * seconds))
        before = round(os.getloadavg()[0], 2)
        outcomes = await client.load([payloads[i % len(payloads)] for i in range(n)], rate,
                                     args.drain)
        windows.append(step(outcomes, rate, (before, round(os.getloadavg()[0], 2))))
        rss.append(rss_mb(pid))
        left -= seconds
        print(f"  soak {rate:g}/s: p99 {windows[-1]['p99_ms']:.1f} ms  errors "
              f"{windows[-1]['errors']}  RSS {rss[-1]} MiB", flush=True)
    return {"rate": rate, "seconds": args.soak_seconds, "window_seconds": args.soak_window,
            "errors": sum(w["errors"] for w in windows), "windows": windows,
            "server_rss_mb": rss,
            "rss_growth_mb": {"first_half": round(rss[len(rss) // 2] - rss[0], 1),
                              "second_half": round(rss[-1] - rss[len(rss) // 2], 1)}}


async def drive(pid: int, host: str, port: int, mixes: dict[str, list[bytes]],
                args: argparse.Namespace) -> dict[str, Any]:
    client = Client(host, port, args.connections)
    try:
        for payloads in mixes.values():  # warm every path and cache before measuring RSS
            await client.load(payloads[:args.warmup], min(args.rates), args.drain)
        await asyncio.sleep(args.pause)
        memory_before = rss_mb(pid)
        found = {}
        for name, payloads in mixes.items():
            print(f"{name}:", flush=True)
            found[name] = await ramp(client, payloads, args)
        await asyncio.sleep(args.pause)
        memory_after = rss_mb(pid)
        soaked = None
        if args.soak_seconds > 0:  # both mixes interleaved, at half the lower sustained rate
            sustained = [m["sustained_rate"] or args.rates[0] for m in found.values()]
            rate = args.soak_rate or max(1.0, min(sustained) / 2)
            both = [p for pair in zip(*mixes.values(), strict=False) for p in pair]
            print("soak:", flush=True)
            soaked = await soak(pid, client, both, rate, args)
        return {"mixes": found, "server_rss_mb": {"after_warmup": memory_before,
                                                   "after_ramps": memory_after},
                "soak": soaked}
    finally:
        client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rates", default="5,10,20,40,80,160,320,640",
                        help="requests per second, comma-separated, rising")
    client_options(parser, 10.0, "per step", 200, "requests per mix")
    parser.add_argument("--p99-ms", type=float, default=100.0)
    parser.add_argument("--overload", type=float, default=2.0,
                        help="the step past saturation, as a multiple of the sustained rate")
    parser.add_argument("--soak-seconds", type=float, default=120.0,
                        help="constant load after the ramps (0: none)")
    parser.add_argument("--soak-window", type=float, default=10.0,
                        help="seconds between two readings of server memory in the soak")
    parser.add_argument("--soak-rate", type=float, default=0.0,
                        help="requests/s in the soak (0: half the lower sustained rate)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--ready-timeout", type=float, default=900.0)
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    args.rates = [float(r) for r in args.rates.split(",") if r.strip()]
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    started = time.perf_counter()
    home = WORK / "home"
    home.mkdir(parents=True, exist_ok=True)
    model = prepare_home(home, args.seed)
    print(f"model: {MODEL}@{model['version']} in production", flush=True)
    host, port = "127.0.0.1", free_port()
    n = max(100, round(max(args.rates) * args.seconds))
    mixes = {"graph": graph_requests(home, host, port, n),
             "recommend": recommend_requests(home, host, port, n)}
    env = {**os.environ, "REELGRAPH_HOME": str(home), "PYTHONUNBUFFERED": "1"}
    env.pop("REELGRAPH_DATABASE_URL", None)
    with (WORK / "server.log").open("wb") as log:
        server = subprocess.Popen([str(CLI), "--home", str(home), "serve", "--host", host,
                                   "--port", str(port)], stdout=log, stderr=subprocess.STDOUT,
                                  env=env, cwd=WORK)
        try:
            wait_ready(server, port, args.ready_timeout)
            figures = asyncio.run(drive(server.pid, host, port, mixes, args))
        finally:
            stop_server(server)
    defaults = Settings()
    result = {"question": "open-loop rate one server sustains (p99 <= limit, 0 errors) on "
                          "graph reads and recommend; past it (overload x that rate), the "
                          "share shed (503) and the p99 of the answered; memory after warm-up, "
                          "after the ramps and through a constant-rate soak",
              "p99_limit_ms": args.p99_ms, "seconds_per_step": args.seconds, "model": model,
              "server": f"reelgraph serve, 1 worker, the defaults: max_in_flight "
                        f"{defaults.max_in_flight}, max_queue_seconds "
                        f"{defaults.max_queue_seconds}",
              "overload_factor": args.overload,
              **figures, "machine": machine(),
              "note": "shared machine: see load_average_1m per step; client and server share "
                      "the cores",
              "seconds": round(time.perf_counter() - started, 1)}
    save(result, args.output)
    print(json.dumps({k: {"sustained": v["sustained_rate"],
                          "overload_shed": v["overload"]["shed_share"],
                          "overload_p99_200_ms": v["overload"]["p99_200_ms"]}
                      for k, v in figures["mixes"].items()}),
          f"RSS {figures['server_rss_mb']}", flush=True)


if __name__ == "__main__":
    main()
