"""How fast does the unified recommender answer each canvas over HTTP, and score in batch?

Issue 6's target: p99 under 15 ms for the online canvases (related, search) on 2 cores,
under a bounded load. One run, on one trained and promoted model:

1. Loopback HTTP load. ``reelgraph --home HOME serve --port PORT`` (the product's server:
   ``--workers`` uvicorn processes (default 2: one per core) with httptools and no access
   log, the default ``ServingConfig``:
   one PyTorch thread per serving process; related and
   search online, category and notifications nearline) runs in a subprocess. Once it
   answers and its nearline answers are precomputed (``GET /api/v1/recommend/deployment``
   shows ``precomputed_at``), and after a warm-up, each canvas in turn gets an OPEN-LOOP
   load at each ``--rate`` (default 500/s, the issue's example, then 100/s) for
   ``--seconds`` (30): requests are sent on a fixed schedule whatever the answers do, and
   each latency is measured from its scheduled send time (no coordinated omission: a
   stalled server or a late client shows up as latency; a request unanswered ``--drain``
   seconds after the last send counts as an error, its latency as a lower bound). The
   client is a small asyncio HTTP/1.1 client over keep-alive connections (another one opened
   while all are busy, up to ``--connections``), in this process: it shares the 2 cores
   with the server, so its CPU per request and how late it got to each request are
   recorded. Baseline row ``http floor``: ``GET /api/v1/recommend/deployment`` at the same
   rate, the HTTP stack and the service lookup without scoring (``p99/floor``).
   The server runs once per ``--threads`` setting: ``default`` (as the product sets it:
   ``ServingConfig.compute_threads``, 1) or a number (``OMP_NUM_THREADS`` for FAISS too).
   Inputs are drawn at random (seeded): real items (related), real known users with a
   share ``--cold-share`` (5%) of users the model never saw (cold start), real categories,
   and search queries made from real titles by ``recsys.queries.NoiseModel`` (dropped words,
   truncation, typos). Per canvas: p50/p90/p99/max, answers per second, errors (non-200 or
   none), which environment answered (from the response), server CPU per request.
2. In process (no HTTP), the same inputs, the three timed in rotating order per request:
   ``service.recommend`` as configured, the FAISS index path (``Deployed.answer_online``)
   and full ranking over every item (``UnifiedRecommender.recommend``); ratios full/index
   and, for the nearline canvases, scored online / served nearline; the top-k overlap of
   each with full ranking's.
3. Fresh histories (issue 17): for ``--fresh-users`` known users per nearline canvas, each
   request timed as configured (served nearline), then once more right after an
   interaction is logged for that user (``service.record``: the item the first answer
   ranked first, a minute after the model's cut-off): the request now reads the user's
   events from the interaction log and is scored online by full ranking over the fresh
   history. Also the log read alone, and the share of answers that reflect the event (the
   item, now seen, is gone). The events are deleted afterwards (``InteractionLog.forget``).
   ``--only-fresh`` runs this part alone (results in ``serving_fresh.json``).
4. Batch: ``score_to_parquet`` for notifications (every known user) and category (every
   known user x category): requests/s and users/s, against the same canvas scored one
   request at a time (``service.recommend`` with the canvas hosted online) for
   ``--batch-sample`` users, as users/s.

The model: ``train_and_register`` on ml-latest-small (the product path, the flow's default
model size; ``--epochs 1`` since latency does not depend on training quality), promoted to
staging then production, in ``benchmarks/work/serving/home``, which later runs reuse (the
flow's cache returns the same version; ``--fresh`` starts from an empty home).

    .venv/bin/python benchmarks/serving.py              # ~18 min (+3 min training once)
    .venv/bin/python benchmarks/serving.py --seconds 3 --rate 100 --threads default \
        --in-process 100 --batch-sample 20              # quick check, ~1 min

Figures are wall-clock on a shared machine: the load average is recorded before and after
each window; compare ratios within one run rather than absolute times across runs.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections import Counter, deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import faiss
import numpy as np
import torch

from latency import Outcome, achieved, percentiles, scheduled_latency_ms
from machine import machine, save
from machine import versions as package_versions
from reelgraph.core import Settings
from reelgraph.flows import Workspace
from reelgraph.flows.registry import ModelRegistry
from reelgraph.recsys import MODEL, Recommendations, UnifiedRecommender, train_and_register
from reelgraph.recsys.queries import NoiseModel
from reelgraph.serving import (
    NEARLINE,
    ONLINE,
    RecommendationService,
    Served,
    ServingConfig,
    score_to_parquet,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "support"))  # helpers
from processes import free_port, stop_server  # shared with the tests

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WORK = HERE / "work" / "serving"
RESULTS = HERE / "results" / "serving.json"
DATA = ROOT / "examples" / "data" / "ml-latest-small"
CLI = Path(sys.executable).parent / "reelgraph"
CANVASES = ("related", "search", "category", "notifications")
TARGET_P99_MS = 15.0
WHO = "benchmarks/serving.py"
Inputs = dict[str, Any]  # one request's body (without canvas and k)


# -- the model --------------------------------------------------------------------------


def prepare_home(home: Path, epochs: int, seed: int, max_train: int = 25_000
                 ) -> dict[str, Any]:
    """Train and register the model in ``home`` (memoized by the flow's cache) and make it
    the production version."""
    started = time.perf_counter()
    with Workspace.open(Settings.load(home=str(home), database_url="")) as ws:
        outcome = train_and_register(ws, DATA, epochs=epochs, seed=seed, who=WHO,
                                     max_train=max_train)
        version = outcome.version
        registry = ModelRegistry(ws)
        stage = registry.version(MODEL, version.version).stage
        if stage != "production":
            if stage != "staging":
                registry.promote(MODEL, version.version, "staging", who=WHO)
            registry.promote(MODEL, version.version, "production", who=WHO)
    return {"version": version.version, "run": outcome.run.id,
            "prepare_seconds": round(time.perf_counter() - started, 1),
            "flow_params": {"epochs": epochs, "seed": seed, "max_train": max_train,
                            "other params": "the flow's defaults (dim 32)"}}


# -- the inputs -------------------------------------------------------------------------


def draw_inputs(recommender: UnifiedRecommender, canvas: str, n: int, cold_share: float,
                seed: int) -> list[Inputs]:
    """``n`` seeded requests of one canvas from the model's real users, items, categories
    and titles (search: noisy queries); ``cold_share`` of the users are unknown."""
    rng = np.random.default_rng([seed, CANVASES.index(canvas)])
    vocabulary = recommender.vocabulary
    users = [vocabulary.user_ids[u] for u in np.flatnonzero(recommender.known_users)]
    with_items = np.asarray(recommender.items.category_matrix).sum(axis=1) > 0
    categories = [c for c, ok in zip(vocabulary.categories, with_items, strict=True) if ok]
    noise = NoiseModel()

    def user(i: int) -> str:
        if rng.random() < cold_share:
            return f"new-user-{seed}-{canvas}-{i}"  # not in the vocabulary: a cold start
        return str(users[rng.integers(len(users))])

    found: list[Inputs] = []
    for i in range(n):
        if canvas == "related":
            found.append({"item": vocabulary.item_ids[rng.integers(len(vocabulary.item_ids))]})
        elif canvas == "category":
            found.append({"user": user(i), "category": categories[rng.integers(len(categories))]})
        elif canvas == "notifications":
            found.append({"user": user(i)})
        else:
            item = int(rng.integers(len(vocabulary.item_ids)))
            query = noise.query(seed, item, i, vocabulary.titles[item])
            found.append({"user": user(i), "query": query.text})
    return found


# -- a light open-loop HTTP/1.1 client --------------------------------------------------


class Connection(asyncio.Protocol):
    """One keep-alive connection; one request in flight at a time."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.waiter: asyncio.Future[tuple[int, bytes]] | None = None
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ConnectionError(f"connection lost: {exc}"))

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return
        head = bytes(self.buffer[:end]).lower()
        at = head.find(b"\r\ncontent-length:")
        if at < 0:
            self.fail(ConnectionError("an answer without content-length"))
            return
        line_end = head.find(b"\r\n", at + 2)
        length = int(head[at + 17:line_end if line_end >= 0 else len(head)])
        total = end + 4 + length
        if len(self.buffer) < total:
            return
        status = int(head[9:12])
        body = bytes(self.buffer[end + 4:total])
        del self.buffer[:total]
        waiter, self.waiter = self.waiter, None
        if waiter is not None and not waiter.done():  # not given up on meanwhile
            waiter.set_result((status, body))

    def fail(self, exc: Exception) -> None:
        self.close()
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(exc)

    def send(self, payload: bytes) -> asyncio.Future[tuple[int, bytes]]:
        assert self.transport is not None
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(payload)
        return self.waiter

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()


@dataclass
class Client:
    """Keep-alive connections, at most ``max_connections``; a request that finds them all
    busy waits in line (first come, first served) for the next one freed."""

    host: str
    port: int
    max_connections: int
    idle: list[Connection] = field(default_factory=list)
    opened: int = 0
    waiting: deque[asyncio.Future[Connection | None]] = field(default_factory=deque)

    async def connection(self) -> Connection:
        loop = asyncio.get_running_loop()
        while True:
            while self.idle:  # the most recently used first: the server closes idle ones
                conn = self.idle.pop()
                if not conn.closed:
                    return conn
                self.opened -= 1
            if self.opened < self.max_connections:
                self.opened += 1
                try:
                    _, conn = await loop.create_connection(Connection, self.host, self.port)
                except (OSError, asyncio.CancelledError):
                    self.opened -= 1
                    raise
                sock = conn.transport.get_extra_info("socket") if conn.transport else None
                if sock is not None:
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                return conn
            turn: asyncio.Future[Connection | None] = loop.create_future()
            self.waiting.append(turn)
            try:
                handed = await turn
            except asyncio.CancelledError:
                handed = turn.result() if turn.done() and not turn.cancelled() else None
                if handed is not None:
                    self.release(handed)  # handed over just as it was given up on
                raise
            if handed is not None:
                return handed
            # None: a connection closed, so one may be opened: try again

    def release(self, conn: Connection) -> None:
        if conn.closed:
            self.opened -= 1
        while self.waiting:
            turn = self.waiting.popleft()
            if not turn.done():
                turn.set_result(None if conn.closed else conn)
                return
        if not conn.closed:
            self.idle.append(conn)

    async def one(self, payload: bytes, outcome: Outcome) -> None:
        loop = asyncio.get_running_loop()
        outcome.started = loop.time()
        conn = await self.connection()
        outcome.sent = loop.time()
        try:
            outcome.status, outcome.body = await conn.send(payload)
        except (ConnectionError, asyncio.CancelledError):
            conn.close()  # its answer, if it comes, is not read
            self.release(conn)
            raise
        outcome.done = loop.time()
        self.release(conn)

    async def load(self, payloads: Sequence[bytes], rate: float, drain_s: float
                   ) -> list[Outcome]:
        """Send ``payloads`` at ``rate`` per second on a fixed schedule (open loop); give up
        on what is unanswered ``drain_s`` after the last is due."""
        loop = asyncio.get_running_loop()
        start = loop.time() + 0.05
        outcomes = [Outcome(start + i / rate) for i in range(len(payloads))]
        tasks: list[asyncio.Task[None]] = []
        for payload, outcome in zip(payloads, outcomes, strict=True):
            delay = outcome.scheduled - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(loop.create_task(self.one(payload, outcome)))
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=drain_s)
            for task in pending:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        given_up = loop.time()
        for outcome in outcomes:
            outcome.done = outcome.done or given_up
            outcome.sent = outcome.sent or outcome.done
            outcome.started = outcome.started or outcome.done
        return outcomes

    def close(self) -> None:
        for conn in self.idle:
            conn.close()
        self.idle.clear()


def client_options(parser: argparse.ArgumentParser, seconds: float, seconds_help: str,
                   warmup: int, warmup_help: str) -> None:
    """The open-loop client's options, the same in every HTTP benchmark."""
    parser.add_argument("--seconds", type=float, default=seconds, help=seconds_help)
    parser.add_argument("--warmup", type=int, default=warmup, help=warmup_help)
    parser.add_argument("--pause", type=float, default=2.0,
                        help="seconds of quiet before each window")
    parser.add_argument("--drain", type=float, default=10.0,
                        help="seconds to wait for answers after the last send")
    parser.add_argument("--connections", type=int, default=64,
                        help="most keep-alive connections the client opens")


def post(host: str, port: int, body: Inputs) -> bytes:
    data = json.dumps(body, separators=(",", ":")).encode()
    return (f"POST /api/v1/recommend HTTP/1.1\r\nHost: {host}:{port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n"
            ).encode() + data


def get(host: str, port: int, path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode()


# -- the server -------------------------------------------------------------------------


def _stat(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process (all its threads) and of its children (the
    server's worker processes with ``--workers``)."""
    pids = [pid]
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if int(_stat(int(entry.name))[1]) == pid:
                    pids.append(int(entry.name))
    total = 0
    for one in pids:
        with contextlib.suppress(OSError):
            fields = _stat(one)
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def deployment(port: int) -> dict[str, Any] | None:
    try:
        url = f"http://127.0.0.1:{port}/api/v1/recommend/deployment"
        with urllib.request.urlopen(url, timeout=30) as answer:
            found: dict[str, Any] = json.loads(answer.read())
            return found
    except OSError:
        return None


def wait_ready(server: subprocess.Popen[bytes], port: int, timeout_s: float
               ) -> dict[str, float]:
    """Seconds from start until the server answers with a deployed version, and until its
    nearline answers are precomputed."""
    started = time.perf_counter()
    ready = None
    while time.perf_counter() - started < timeout_s:
        if server.poll() is not None:
            raise RuntimeError(f"the server exited with {server.returncode}: see "
                               f"{WORK / 'server.log'}")
        found = deployment(port)
        if found is not None and found.get("version") is not None:
            ready = ready or time.perf_counter() - started
            if found.get("precomputed_at") is not None:
                return {"answering_s": round(ready, 2),
                        "precomputed_s": round(time.perf_counter() - started, 2)}
        time.sleep(0.25)
    raise RuntimeError(f"the server was not ready (deployed and precomputed) in {timeout_s} s")


def summarize(outcomes: Sequence[Outcome], rate: float, client_cpu_s: float,
              server_cpu_s: float, load: tuple[float, float]) -> dict[str, Any]:
    answered = [o for o in outcomes if o.status]
    ok = [o for o in answered if o.status == 200]
    environments: Counter[str] = Counter()
    cold = 0
    fallbacks: Counter[str] = Counter()
    for o in ok:
        body = json.loads(o.body)
        if "environment" in body:
            environments[body["environment"]] += 1
            cold += bool(body.get("cold_start"))
            if body.get("fallback"):
                fallbacks[body["fallback"]] += 1
    n = len(outcomes)
    reached = achieved(outcomes)
    return {
        "requests": n, "target_rate": rate, "achieved_rate": reached["achieved_rate"],
        **percentiles(scheduled_latency_ms(outcomes)),
        "latency_is_lower_bound": len(answered) < n,
        # Where the time went, p99 of: the client's lateness (its own CPU), waiting for a
        # free connection (all busy: the server is behind), and from send to answer.
        "client_late_p99_ms": percentiles([(o.started - o.scheduled) * 1000
                                           for o in answered])["p99_ms"],
        "waiting_for_connection_p99_ms": percentiles([(o.sent - o.started) * 1000
                                                      for o in answered])["p99_ms"],
        "from_send_p99_ms": percentiles([(o.done - o.sent) * 1000 for o in answered])["p99_ms"],
        "errors": reached["errors"], "error_kinds": reached["error_kinds"],
        "environments": dict(environments), "cold_start": cold, "fallbacks": dict(fallbacks),
        "server_cpu_ms_per_request": round(server_cpu_s * 1000 / n, 3),
        "client_cpu_ms_per_request": round(client_cpu_s * 1000 / n, 3),
        "load_average_1m": {"before": load[0], "after": load[1]},
    }


def http_load(home: Path, inputs: dict[str, list[Inputs]], args: argparse.Namespace,
              threads: str) -> dict[str, Any]:
    """Start the server (``threads``: "default", or a number for OMP_NUM_THREADS, which
    sets PyTorch's and FAISS's threads), load it canvas by canvas, stop it."""
    port = free_port()
    host = "127.0.0.1"
    log = (WORK / f"server-{threads}.log").open("wb")
    env = {**os.environ, "REELGRAPH_HOME": str(home), "PYTHONUNBUFFERED": "1"}
    env.pop("REELGRAPH_DATABASE_URL", None)
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env.pop(name, None)
        if threads != "default":
            env[name] = threads
    server = subprocess.Popen([str(CLI), "--home", str(home), "serve", "--host", host,
                               "--port", str(port), "--workers", str(args.workers)],
                              stdout=log, stderr=subprocess.STDOUT, env=env, cwd=WORK)
    try:
        startup = wait_ready(server, port, args.ready_timeout)
        if args.workers > 1:  # the other workers started together: give them as long
            time.sleep(startup["precomputed_s"])
        print(f"server ready: answering after {startup['answering_s']} s, nearline "
              f"precomputed after {startup['precomputed_s']} s", flush=True)
        return {"startup": startup, "env": {"OMP_NUM_THREADS": env.get("OMP_NUM_THREADS")},
                "server_pid": server.pid,
                **asyncio.run(drive(server.pid, host, port, inputs, args))}
    finally:
        stop_server(server)
        log.close()


async def drive(pid: int, host: str, port: int, inputs: dict[str, list[Inputs]],
                args: argparse.Namespace) -> dict[str, Any]:
    """Warm up, then each rate: the HTTP floor and each canvas in turn, open loop."""
    client = Client(host, port, args.connections)
    try:
        warm = [post(host, port, {"canvas": c, "k": args.k, **inputs[c][i % len(inputs[c])]})
                for i in range(args.warmup) for c in CANVASES]
        random.Random(args.seed).shuffle(warm)
        warmed = await client.load(warm, min(args.rates), args.drain)
        bad = sum(o.status != 200 for o in warmed)
        print(f"warm-up: {len(warm)} requests at {min(args.rates):g}/s, {bad} not 200",
              flush=True)
        if bad == len(warm):
            raise RuntimeError(f"every warm-up request failed: {warmed[0].body[:300]!r}")
        rates: dict[str, Any] = {}
        for rate in args.rates:
            n = max(1, round(rate * args.seconds))
            figures: dict[str, Any] = {}
            for name in ("http floor", *CANVASES):
                payloads = ([get(host, port, "/api/v1/recommend/deployment")] * n
                            if name == "http floor" else
                            [post(host, port, {"canvas": name, "k": args.k, **body})
                             for body in inputs[name][:n]])
                idle = cpu_seconds(pid)
                await asyncio.sleep(args.pause)
                idle = cpu_seconds(pid) - idle
                load_before = round(os.getloadavg()[0], 2)
                client_cpu, server_cpu = time.process_time(), cpu_seconds(pid)
                outcomes = await client.load(payloads, rate, args.drain)
                client_cpu, server_cpu = (time.process_time() - client_cpu,
                                          cpu_seconds(pid) - server_cpu)
                found = summarize(outcomes, rate, client_cpu, server_cpu,
                                  (load_before, round(os.getloadavg()[0], 2)))
                found["server_idle_cpu_ms_per_s"] = round(idle * 1000 / args.pause, 1)
                if name != "http floor":
                    found["p99_under_target"] = found["p99_ms"] < TARGET_P99_MS
                figures[name] = found
                print(f"{rate:5g}/s {name:14} p50 {found['p50_ms']:8.2f} ms  p99 "
                      f"{found['p99_ms']:9.2f} ms  {found['achieved_rate']:6.1f}/s  errors "
                      f"{found['errors']}  {found['environments']}  server CPU "
                      f"{found['server_cpu_ms_per_request']:.2f} ms/req  client CPU "
                      f"{found['client_cpu_ms_per_request']:.2f} ms/req", flush=True)
            rates[f"{rate:g}"] = figures
        return {"connections_opened": client.opened, "rates": rates}
    finally:
        client.close()


# -- in process -------------------------------------------------------------------------


def overlap(a: Sequence[tuple[str, float]], b: Sequence[tuple[str, float]]) -> float:
    if not b:
        return 1.0 if not a else 0.0
    return len({i for i, _ in a} & {i for i, _ in b}) / len(b)


def in_process(service: RecommendationService, inputs: dict[str, list[Inputs]], k: int,
               n: int, warm: int) -> dict[str, Any]:
    """Per canvas: the service as configured, the FAISS index path and full ranking, each
    request timed in all three (in rotating order)."""
    deployed = service.current
    recommender = deployed.recommender

    def configured(canvas: str, body: Inputs) -> Served:
        return service.recommend(canvas, k=k, **body)

    def index(canvas: str, body: Inputs) -> Recommendations:
        return deployed.answer_online(recommender.request(canvas, k=k, **body))

    def full_ranking(canvas: str, body: Inputs) -> Recommendations:
        return recommender.recommend(canvas, k=k, **body)

    calls: dict[str, Callable[[str, Inputs], Any]] = {
        "service": configured, "index": index, "full_ranking": full_ranking}
    figures: dict[str, Any] = {}
    for canvas in CANVASES:
        times: dict[str, list[float]] = {name: [] for name in calls}
        agree: dict[str, list[float]] = {"service": [], "index": []}
        environments: Counter[str] = Counter()
        names = list(calls)
        bodies = inputs[canvas][:n + warm]
        for i, body in enumerate(bodies):
            answers: dict[str, Any] = {}
            for name in names[i % 3:] + names[:i % 3]:
                started = time.perf_counter()
                answers[name] = calls[name](canvas, body)
                if i >= warm:
                    times[name].append((time.perf_counter() - started) * 1000)
            if i >= warm:
                environments[answers["service"].environment] += 1
                full = answers["full_ranking"].items
                agree["service"].append(overlap(answers["service"].recommendations.items, full))
                agree["index"].append(overlap(answers["index"].items, full))
        found: dict[str, Any] = {name: percentiles(ms) for name, ms in times.items()}
        found["environment"] = service.config.environment(canvas)
        found["service_environments"] = dict(environments)
        found["top_k_overlap_with_full_ranking"] = {
            name: round(float(np.mean(v)), 4) for name, v in agree.items()}
        found["ratio_full_over_index_p50"] = round(
            found["full_ranking"]["p50_ms"] / found["index"]["p50_ms"], 2)
        found["ratio_full_over_index_p99"] = round(
            found["full_ranking"]["p99_ms"] / found["index"]["p99_ms"], 2)
        if found["environment"] == NEARLINE:
            found["ratio_online_over_nearline_p50"] = round(
                found["index"]["p50_ms"] / found["service"]["p50_ms"], 2)
            found["ratio_online_over_nearline_p99"] = round(
                found["index"]["p99_ms"] / found["service"]["p99_ms"], 2)
        figures[canvas] = found
        print(f"{canvas:14} service p50 {found['service']['p50_ms']:6.2f} p99 "
              f"{found['service']['p99_ms']:6.2f} ms | index p50 {found['index']['p50_ms']:6.2f}"
              f" | full ranking p50 {found['full_ranking']['p50_ms']:6.2f} ms | overlap "
              f"{found['top_k_overlap_with_full_ranking']}", flush=True)
    return {"requests_per_canvas": n, "canvases": figures}


# -- batch ------------------------------------------------------------------------------


def batch(service: RecommendationService, online: RecommendationService, k: int,
          sample: int, seed: int) -> dict[str, Any]:
    """``score_to_parquet`` per nearline canvas against one request at a time, online."""
    recommender = service.current.recommender
    users = [recommender.vocabulary.user_ids[u]
             for u in np.flatnonzero(recommender.known_users)]
    categories = recommender.vocabulary.categories
    chosen = random.Random(seed).sample(users, min(sample, len(users)))
    figures: dict[str, Any] = {}
    for canvas in ("notifications", "category"):
        report = score_to_parquet(recommender, canvas, WORK / f"{canvas}.parquet", k=k)
        per_user = len(categories) if canvas == "category" else 1
        batch_users = report.requests / per_user / report.seconds
        started = time.perf_counter()
        for user in chosen:
            if canvas == "category":
                for category in categories:
                    online.recommend(canvas, user=user, category=category, k=k)
            else:
                online.recommend(canvas, user=user, k=k)
        seconds = time.perf_counter() - started
        single_users = len(chosen) / seconds
        figures[canvas] = {
            "batch": {"requests": report.requests, "rows": report.rows,
                      "users": report.requests // per_user,
                      "seconds": round(report.seconds, 2),
                      "requests_per_s": round(report.requests_per_s, 1),
                      "users_per_s": round(batch_users, 1)},
            "one_at_a_time_online": {"users": len(chosen),
                                     "requests": len(chosen) * per_user,
                                     "seconds": round(seconds, 2),
                                     "requests_per_s": round(len(chosen) * per_user / seconds, 1),
                                     "users_per_s": round(single_users, 1)},
            "ratio_batch_over_one_at_a_time": round(batch_users / single_users, 2),
        }
        print(f"batch {canvas:14} {batch_users:8.1f} users/s ({report.requests_per_s:,.0f} "
              f"requests/s) vs one at a time {single_users:7.1f} users/s: "
              f"{batch_users / single_users:.1f}x", flush=True)
    return figures


# -- fresh histories --------------------------------------------------------------------


def fresh_histories(service: RecommendationService, users: int, k: int, seed: int
                    ) -> dict[str, Any]:
    """Per nearline canvas: latency before and after an interaction is logged."""
    recommender = service.current.recommender
    known = [recommender.vocabulary.user_ids[u]
             for u in np.flatnonzero(recommender.known_users)]
    chosen = random.Random(seed).sample(known, min(users, len(known)))
    log = service.interactions
    figures: dict[str, Any] = {}
    for canvas in ("notifications", "category"):
        extra = {"category": "Comedy"} if canvas == "category" else {}
        before, after, reads, reflected = [], [], [], []
        environments: Counter[str] = Counter()
        for user in chosen:
            started = time.perf_counter()
            first = service.recommend(canvas, user=user, k=k, **extra)
            before.append((time.perf_counter() - started) * 1000)
            environments[first.environment] += 1
            watched = first.recommendations.items[0][0]
            service.record(user, watched, recommender.now + 60)
            started = time.perf_counter()
            log.recent(user, since=recommender.now)
            reads.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            second = service.recommend(canvas, user=user, k=k, **extra)
            after.append((time.perf_counter() - started) * 1000)
            reflected.append(watched not in [i for i, _ in second.recommendations.items])
            log.forget(user)
        found = {"users": len(chosen), "before": percentiles(before),
                 "before_environments": dict(environments),
                 "after_interaction": percentiles(after), "log_read": percentiles(reads),
                 "reflects_the_interaction": round(float(np.mean(reflected)), 4),
                 "added_p50_ms": round(float(np.median(after) - np.median(before)), 3),
                 "ratio_after_over_before_p50": round(
                     float(np.median(after) / np.median(before)), 2)}
        figures[canvas] = found
        print(f"fresh {canvas:14} before p50 {found['before']['p50_ms']:6.2f} p99 "
              f"{found['before']['p99_ms']:6.2f} ms | after an interaction p50 "
              f"{found['after_interaction']['p50_ms']:6.2f} p99 "
              f"{found['after_interaction']['p99_ms']:6.2f} ms | log read p50 "
              f"{found['log_read']['p50_ms']:.2f} ms | reflects it "
              f"{found['reflects_the_interaction']:.0%}", flush=True)
    return figures


def only_fresh(home: Path, args: argparse.Namespace, model: dict[str, Any]) -> None:
    started = time.perf_counter()
    load_start = round(os.getloadavg()[0], 2)
    with Workspace.open(Settings.load(home=str(home), database_url="")) as ws:
        service = RecommendationService(ws, ServingConfig())
        service.refresh(precompute=True)
        figures = fresh_histories(service, args.fresh_users, args.k, args.seed)
        service.close()
    save({"question": "what does reading a member's fresh interactions at request time "
                      "add to a nearline canvas's latency (issue 17)?",
          "config": {"fresh_users": args.fresh_users, "k": args.k, "seed": args.seed,
                     "dataset": "ml-latest-small", "serving": "ServingConfig() defaults, "
                     "in process, one compute thread"},
          "model": model, "fresh_histories": figures,
          "load_average_1m": {"start": load_start, "end": round(os.getloadavg()[0], 2)},
          "seconds": round(time.perf_counter() - started, 1), "machine": machine(),
          "versions": package_versions("torch", "numpy", "sqlalchemy")},
         RESULTS.with_name("serving_fresh.json"))


# -- the table --------------------------------------------------------------------------


def table(report: dict[str, Any]) -> None:
    config = report["config"]
    print(f"\nHTTP: open loop, {config['seconds']:g} s per canvas and rate; latency (ms) from "
          "the scheduled send; server threads: default, or OMP_NUM_THREADS")
    print(f"{'threads':7} {'rate':>5} {'canvas':14} {'hosted':9} {'p50':>8} {'p90':>8} "
          f"{'p99':>9} {'max':>9} {'done/s':>6} {'errors':>6} {'p99<15':>6} {'p99/floor':>9} "
          f"{'srv CPU/req':>11}  answered")
    for threads, run in report["http"].items():
        for rate, canvases in run["rates"].items():
            floor = canvases["http floor"]
            for name, row in canvases.items():
                hosted = ("-" if name == "http floor"
                          else config["serving"]["environments"][name])
                target = ("-" if name == "http floor"
                          else "yes" if row["p99_under_target"] else "NO")
                print(f"{threads:7} {rate:>5} {name:14} {hosted:9} {row['p50_ms']:8.2f} "
                      f"{row['p90_ms']:8.2f} {row['p99_ms']:9.2f} {row['max_ms']:9.1f} "
                      f"{row['achieved_rate']:6.0f} {row['errors']:6d} {target:>6} "
                      f"{row['p99_ms'] / floor['p99_ms']:8.1f}x "
                      f"{row['server_cpu_ms_per_request']:9.2f}ms  {row['environments'] or ''}")
    print("\nIn process (no HTTP), the same inputs, "
          f"{config['in_process_requests']} requests per canvas (ms); overlap: top-k shared "
          "with full ranking")
    print(f"{'threads':8} {'canvas':14} {'service p50':>11} {'p99':>7} {'index p50':>9} "
          f"{'p99':>7} {'full p50':>8} {'p99':>7} {'full/index':>10} {'online/nearline':>15} "
          f"{'overlap':>7}")
    for threads, run in report["in_process"].items():
        for name, row in run["canvases"].items():
            ratio = row.get("ratio_online_over_nearline_p50")
            shown = "-" if ratio is None else f"{ratio:.1f}x"
            print(f"{threads:8} {name:14} {row['service']['p50_ms']:11.2f} "
                  f"{row['service']['p99_ms']:7.2f} {row['index']['p50_ms']:9.2f} "
                  f"{row['index']['p99_ms']:7.2f} {row['full_ranking']['p50_ms']:8.2f} "
                  f"{row['full_ranking']['p99_ms']:7.2f} "
                  f"{row['ratio_full_over_index_p50']:9.1f}x {shown:>15} "
                  f"{row['top_k_overlap_with_full_ranking']['index']:7.3f}")
    print("\nBatch scoring (score_to_parquet) vs one request at a time, scored online")
    print(f"{'threads':8} {'canvas':14} {'batch users/s':>13} {'requests/s':>10} "
          f"{'one-at-a-time users/s':>21} {'ratio':>6}")
    for threads, run in report["batch"].items():
        for name, row in run.items():
            print(f"{threads:8} {name:14} {row['batch']['users_per_s']:13,.1f} "
                  f"{row['batch']['requests_per_s']:10,.0f} "
                  f"{row['one_at_a_time_online']['users_per_s']:21,.1f} "
                  f"{row['ratio_batch_over_one_at_a_time']:5.1f}x")


@contextlib.contextmanager
def threads_set(threads: str) -> Iterator[None]:
    """PyTorch's and FAISS's threads in this process ("default": left as they are)."""
    api: Any = faiss  # its type stubs lack the OpenMP helpers
    before = torch.get_num_threads(), api.omp_get_max_threads()
    if threads != "default":
        torch.set_num_threads(int(threads))
        api.omp_set_num_threads(int(threads))
    try:
        yield
    finally:
        torch.set_num_threads(before[0])
        api.omp_set_num_threads(before[1])


# -- main -------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", default="500,100",
                        help="requests per second, comma-separated: each rate in turn")
    client_options(parser, 30.0, "per canvas", 100, "requests per canvas")
    parser.add_argument("--cold-share", type=float, default=0.05)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--in-process", type=int, default=1000,
                        help="timed requests per canvas in process")
    parser.add_argument("--batch-sample", type=int, default=200,
                        help="users scored one at a time for the batch baseline")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--ready-timeout", type=float, default=900.0)
    parser.add_argument("--fresh", action="store_true",
                        help="train in an empty home instead of reusing work/serving/home")
    parser.add_argument("--workers", type=int, default=2,
                        help="server processes (`reelgraph serve --workers`)")
    parser.add_argument("--threads", default="default",
                        help="comma-separated: PyTorch/FAISS thread settings to run the HTTP "
                             "and in-process parts under (default: as the product leaves "
                             "them; a number: OMP_NUM_THREADS for the server)")
    parser.add_argument("--fresh-users", type=int, default=200,
                        help="users per nearline canvas for the fresh-history timing")
    parser.add_argument("--max-train", type=int, default=25_000,
                        help="training examples per canvas (latency does not depend on it)")
    parser.add_argument("--only-fresh", action="store_true",
                        help="time fresh histories only (serving_fresh.json)")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    variants = [t.strip() for t in args.threads.split(",") if t.strip()]
    args.rates = [float(r) for r in args.rate.split(",") if r.strip()]
    # Stopped with SIGTERM, still stop the server (the ``finally`` in ``http_load``).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    started = time.perf_counter()
    load_start = round(os.getloadavg()[0], 2)
    home = WORK / "home"
    if args.fresh:
        shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True, exist_ok=True)
    (home / "serving.toml").unlink(missing_ok=True)  # the defaults: server and in process
    model = prepare_home(home, args.epochs, 0, args.max_train)
    print(f"model: {MODEL}@{model['version']} in production ({model['prepare_seconds']} s "
          "to train or reuse)", flush=True)
    if args.only_fresh:
        only_fresh(home, args, model)
        return

    with Workspace.open(Settings.load(home=str(home), database_url="")) as ws:
        config = ServingConfig()
        service = RecommendationService(ws, config)
        service.refresh(precompute=False)
        recommender = service.current.recommender
        n = max(1, round(max(args.rates) * args.seconds))
        inputs = {c: draw_inputs(recommender, c, max(n, args.in_process + 20), args.cold_share,
                                 args.seed) for c in CANVASES}
        model["items"] = len(recommender.vocabulary.item_ids)
        model["known_users"] = int(np.count_nonzero(recommender.known_users))
        model["categories"] = len(recommender.vocabulary.categories)
        model["index"] = service.current.index.kind

        http: dict[str, Any] = {}
        for threads in variants:
            print(f"-- HTTP, server threads: {threads}", flush=True)
            http[threads] = http_load(home, inputs, args, threads)

        # The server precomputed the nearline answers of this version into the same store.
        online_config = config.with_environments(
            **dict.fromkeys(config.canvases_in(NEARLINE), ONLINE))
        online = RecommendationService(ws, online_config, online=service.online)
        online.refresh(precompute=False)
        local: dict[str, Any] = {}
        batched: dict[str, Any] = {}
        for threads in variants:
            print(f"-- in process and batch, threads: {threads}", flush=True)
            with threads_set(threads):
                local[threads] = in_process(service, inputs, args.k, args.in_process, 20)
                local[threads]["torch_threads"] = torch.get_num_threads()
                batched[threads] = batch(service, online, args.k, args.batch_sample, args.seed)
        fresh = fresh_histories(service, args.fresh_users, args.k, args.seed)
        online.close()
        service.close()

    report: dict[str, Any] = {
        "question": "p50/p99 latency per canvas over loopback HTTP under a bounded open-loop "
                    "load, in process, and batch scoring throughput (issue 6)",
        "config": {"rates": args.rates, "seconds": args.seconds, "warmup_per_canvas": args.warmup,
                   "k": args.k, "cold_share": args.cold_share, "seed": args.seed,
                   "in_process_requests": args.in_process, "batch_sample": args.batch_sample,
                   "max_connections": args.connections, "target_p99_ms": TARGET_P99_MS,
                   "dataset": "ml-latest-small", "serving": {
                       "environments": dict(config.environments),
                       "max_age_s": config.max_age_s, "nearline_k": config.nearline_k},
                   "threads": variants,
                   "benchmark_torch_threads_default": torch.get_num_threads(),
                   "server": f"reelgraph serve --workers {args.workers} (uvicorn with "
                             "httptools, no access log)",
                   "client": "asyncio HTTP/1.1 keep-alive client in the benchmark's process, "
                             "on the same 2 cores as the server"},
        "model": model,
        "p99_under_target": {
            threads: {rate: {c: row["p99_under_target"] for c, row in canvases.items()
                             if c != "http floor"}
                      for rate, canvases in run["rates"].items()}
            for threads, run in http.items()},
        "http": http,
        "in_process": local,
        "batch": batched,
        "fresh_histories": fresh,
        "load_average_1m_at_start": load_start,
        "seconds": round(time.perf_counter() - started, 1),
        "machine": machine(),
        "versions": package_versions("torch", "faiss-cpu", "numpy", "fastapi", "starlette",
                                     "uvicorn", "pyarrow"),
        "notes": [
            "The load generator runs on the same machine as the server (loopback) and takes "
            "CPU from it: see client_cpu_ms_per_request and client_late_p99_ms (how late the "
            "client got to a request); waiting_for_connection_p99_ms is time queued in the "
            "client while every connection had a request in flight (the server is behind).",
            "Latency is measured from each request's scheduled send time (open loop).",
            f"The model was trained with epochs={args.epochs} (the flow's other defaults): "
            "latency does not depend on training quality.",
            "A serving process runs PyTorch, OpenBLAS and OpenMP on one thread "
            "(ServingConfig.compute_threads): with the default pools (one thread per core) "
            "idle pool threads spin after each small product, ~16 ms of CPU per ~3 ms request.",
            "connections_opened: connections open at the end of the load (idle ones are "
            "closed by the server after its keep-alive timeout and reopened when needed).",
        ],
    }
    table(report)
    save(report, args.output)
    print(f"total {report['seconds']:.0f} s", flush=True)


if __name__ == "__main__":
    main()
