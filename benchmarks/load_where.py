"""Where does a request's time go when the server is past saturation?

Issue 16: at twice its sustained rate the server answered no 503 and p99 grew to seconds.
This runs the server's application wrapped in a timing layer (``timed_app``, the outermost
ASGI layer, so it sees a request as soon as uvicorn hands it over) and drives one mix of
``benchmarks/load.py`` open loop at ``--rates``. Per step, from the client: p99 of all and
of the 200s, 503s, how long requests waited for a free client connection; from inside the
server: time from the ASGI layer to the handler's thread starting (admission queue plus
thread hop), to the response starting, the event loop's lag (a 10 ms sleep's overshoot),
and the most requests in the app at once. What the client waits beyond the server's own
time waited in front of the app (the socket, a starved event loop).

    .venv/bin/python benchmarks/load_where.py --mix recommend --rates 40,160
    # the server from another source tree (e.g. `git archive HEAD~3 src | tar -x -C /tmp/old`):
    .venv/bin/python benchmarks/load_where.py --mix graph --src /tmp/old/src --label old
    # any setting: --env REELGRAPH_MAX_IN_FLIGHT=4

Uses ``load.py``'s home (run it once first). Shared machine: the load average is recorded
per step; compare runs made back to back, never absolute times across days.
"""

from __future__ import annotations

import argparse
import asyncio
import contextvars
import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "load_where"  # one JSON per mix and --label
_ENTRY: contextvars.ContextVar[list[Any] | None] = contextvars.ContextVar("entry", default=None)
_SAMPLES: dict[str, list[float]] = {"to_thread": [], "to_start": [], "lag": [], "in_app": []}


# -- in the server ------------------------------------------------------------------------


def _time_thread_starts() -> None:
    """Record, once per request, when its first thread-pool call starts running."""
    import anyio.to_thread

    original = anyio.to_thread.run_sync

    async def run_sync(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        entry = _ENTRY.get()

        def timed(*inner: Any) -> Any:
            if entry is not None and not entry[1]:
                entry[1] = True
                _SAMPLES["to_thread"].append(time.perf_counter() - entry[0])
            return func(*inner)

        return await original(timed, *args, **kwargs)

    anyio.to_thread.run_sync = run_sync  # type: ignore[assignment]


class Timed:
    """The outermost ASGI layer: per-request timings, the loop's lag, ``GET /_where``."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.in_app = 0
        self.lag_task: asyncio.Task[None] | None = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if self.lag_task is None:
            self.lag_task = asyncio.get_running_loop().create_task(self._lag())
        if scope["type"] == "http" and scope["path"] == "/_where":
            body = json.dumps(_SAMPLES).encode()
            for samples in _SAMPLES.values():
                samples.clear()
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"content-type", b"application/json")]})
            await send({"type": "http.response.body", "body": body})
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        entered = time.perf_counter()
        _ENTRY.set([entered, False])
        self.in_app += 1
        _SAMPLES["in_app"].append(self.in_app)

        async def timed_send(message: Any) -> None:
            if message["type"] == "http.response.start":
                _SAMPLES["to_start"].append(time.perf_counter() - entered)
            await send(message)

        try:
            await self.app(scope, receive, timed_send)
        finally:
            self.in_app -= 1

    async def _lag(self) -> None:
        while True:
            before = time.perf_counter()
            await asyncio.sleep(0.01)
            _SAMPLES["lag"].append(time.perf_counter() - before - 0.01)


def timed_app() -> Timed:
    """``uvicorn --factory load_where:timed_app``: the product's app, timed."""
    from reelgraph.cli.serve import web_app

    _time_thread_starts()
    return Timed(web_app())


# -- the driver ---------------------------------------------------------------------------


def _ms(values: list[float]) -> dict[str, float] | None:
    import numpy as np

    if not values:
        return None
    ms = np.asarray(values) * 1000
    return {"p50": round(float(np.percentile(ms, 50)), 1),
            "p99": round(float(np.percentile(ms, 99)), 1), "max": round(float(ms.max()), 1)}


async def _drive(host: str, port: int, payloads: list[bytes], args: argparse.Namespace
                 ) -> list[dict[str, Any]]:
    from latency import achieved, percentiles, scheduled_latency_ms
    from serving import Client

    client = Client(host, port, args.connections)
    where = f"http://{host}:{port}/_where"
    steps = []
    try:
        await client.load(payloads[:args.warmup], min(args.rates), args.drain)
        urllib.request.urlopen(where).read()  # drop the warm-up's samples
        for rate in args.rates:
            await asyncio.sleep(args.pause)
            load = round(os.getloadavg()[0], 2)
            outcomes = await client.load(payloads[:round(rate * args.seconds)], rate, args.drain)
            inside = json.loads(urllib.request.urlopen(where).read())
            ok = [o for o in outcomes if o.status == 200]
            steps.append({
                "rate": rate, "load_average_1m": load, **achieved(outcomes),
                "p99_ms": percentiles(scheduled_latency_ms(outcomes))["p99_ms"],
                "p99_200_ms": percentiles(scheduled_latency_ms(ok))["p99_ms"],
                "client_wait_for_connection_ms": _ms([o.sent - o.scheduled for o in outcomes]),
                "server_to_thread_ms": _ms(inside["to_thread"]),
                "server_to_response_ms": _ms(inside["to_start"]),
                "event_loop_lag_ms": _ms(inside["lag"]),
                "most_in_app": max(inside["in_app"], default=0)})
            print(json.dumps(steps[-1]), flush=True)
    finally:
        client.close()
    return steps


def _defaults(src: Path | None) -> dict[str, Any] | str:
    """This checkout's admission settings (another tree's are whatever it had)."""
    if src is not None:
        return f"those of {src}"
    from reelgraph.core import Settings

    found = Settings()
    return {"max_in_flight": found.max_in_flight, "max_queue_seconds": found.max_queue_seconds}


def main() -> None:
    from serving import client_options, free_port, stop_server, wait_ready

    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mix", choices=("graph", "recommend"), default="graph")
    parser.add_argument("--rates", default="160,320")
    client_options(parser, 4.0, "per step", 60, "requests before the first step")
    parser.add_argument("--src", type=Path, help="run the server from this source tree")
    parser.add_argument("--label", default="this", help="names the run's JSON (e.g. old)")
    parser.add_argument("--env", action="append", default=[], help="NAME=VALUE for the server")
    args = parser.parse_args()
    args.rates = [float(r) for r in args.rates.split(",") if r.strip()]

    from load import WORK, graph_requests, recommend_requests
    from machine import machine, save

    home = WORK / "home"
    if not (home / "reelgraph.db").exists():
        sys.exit(f"no home at {home}: run benchmarks/load.py once first")
    host, port = "127.0.0.1", free_port()
    make = graph_requests if args.mix == "graph" else recommend_requests
    payloads = make(home, host, port, round(max(args.rates) * args.seconds) + args.warmup)
    paths = [str(args.src)] if args.src else []
    env = {**os.environ, "REELGRAPH_HOME": str(home),
           "PYTHONPATH": os.pathsep.join([*paths, str(HERE)]),
           **dict(e.split("=", 1) for e in args.env)}
    env.pop("REELGRAPH_DATABASE_URL", None)
    with (WORK / "where_server.log").open("wb") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--factory", "load_where:timed_app", "--host", host,
             "--port", str(port), "--no-access-log"], stdout=log, stderr=subprocess.STDOUT,
            env=env, cwd=WORK)
        try:
            wait_ready(server, port, 900)
            steps = asyncio.run(_drive(host, port, payloads, args))
        finally:
            stop_server(server)
    save({"question": "where a request's time goes past saturation: in front of the app or "
                      "inside it", "mix": args.mix, "src": str(args.src or "this checkout"),
          "server_env": args.env, "server_defaults": _defaults(args.src),
          "seconds_per_step": args.seconds, "steps": steps,
          "machine": machine()}, RESULTS / f"{args.mix}-{args.label}.json")


if __name__ == "__main__":
    main()
