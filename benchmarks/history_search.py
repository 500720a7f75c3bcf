"""As-of search on a large graph: the Python scan it replaced against the SQL-scored path.

Bulk-loads N nodes (default 200,000) into a fresh SQLite file under benchmarks/work/ (and,
with ``--postgres``, a fresh PostgreSQL database), rewrites a tenth of them (so they have two
revisions), then times ``search(..., as_of=...)`` at a time before the rewrite for a common
word (about 1 node in 10), two words together, and a rare word, through both paths in the
same run, and checks that both give the same hits. Figures: median wall seconds and the
client process's CPU seconds over ``--repeat`` runs (PostgreSQL's own CPU is not counted).

    .venv/bin/python benchmarks/history_search.py [--nodes 200000] [--postgres]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from machine import machine, save
from reelgraph.core import now_us
from reelgraph.graph import Graph, NodeKey, NodeSpec, SearchHit
from reelgraph.graph.sql.store import SqlGraphStore, search_history, search_history_scan
from reelgraph.graph.store import NodeFilter

HERE = Path(__file__).resolve().parent
WORK = HERE / "work"
RESULTS = HERE / "results" / "history_search.json"
PG_ADMIN_URL = os.environ.get(
    "REELGRAPH_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
WORDS = ("watch", "history", "session", "click", "title", "artwork", "trailer", "genre",
         "country", "device", "profile", "billing", "churn", "rating", "search", "query",
         "impression", "play", "audio", "subtitle", "thumbnail", "ranker", "embedding",
         "daily", "hourly", "aggregate", "member", "catalog", "promo", "campaign")
QUERIES = {"common word": ["rating"], "two words": ["rating", "daily"],
           "rare word": ["zebra"]}


def specs(n: int, seed: int, rare_every: int = 10_000) -> Iterator[NodeSpec]:
    rng = random.Random(seed)
    for i in range(n):
        words = rng.sample(WORDS, 3)
        if i % rare_every == 0:
            words[2] = "zebra"
        yield NodeSpec(NodeKey("dataset", f"ns{i % 400}", f"{words[0]}_{i}"),
                       domain="bench", owner=f"team-{i % 97}",
                       description=" ".join(words), tags=(words[0], "dataset"),
                       properties={"tier": i % 3, "words": words[1:]})


def timed(call: Callable[[], list[SearchHit]], repeat: int) -> tuple[dict[str, float],
                                                                      list[SearchHit]]:
    walls, cpus, hits = [], [], []
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        hits = call()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return {"wall_s": round(statistics.median(walls), 3),
            "cpu_s": round(statistics.median(cpus), 3)}, hits


def run(url: str, nodes: int, repeat: int) -> dict[str, Any]:
    graph = Graph.open(url)
    try:
        store = graph.store
        assert isinstance(store, SqlGraphStore)
        started = time.perf_counter()
        store.bulk_load(specs(nodes, 0), [])
        load_s = time.perf_counter() - started
        as_of = now_us()
        with graph.batch("rewrite") as batch:  # a tenth get a second revision
            for spec in specs(nodes // 10, 1):
                batch.add(spec.key, description="rewritten " + spec.description)
        figures: dict[str, Any] = {"nodes": nodes, "bulk_load_s": round(load_s, 1)}
        for name, terms in QUERIES.items():
            old, old_hits = timed(lambda t=terms: search_history_scan(  # type: ignore[misc]
                store, t, NodeFilter(), 20, as_of), repeat)
            new, new_hits = timed(lambda t=terms: search_history(  # type: ignore[misc]
                store, t, NodeFilter(), 20, as_of), repeat)
            same = [(h.node.uri, h.score) for h in old_hits] == [
                (h.node.uri, h.score) for h in new_hits]
            figures[name] = {"terms": terms, "python_scan": old, "sql": new,
                             "speedup_wall": round(old["wall_s"] / max(new["wall_s"], 1e-6), 1),
                             "same_hits": same}
            print(f"{url.split(':')[0]:<10} {name:<12} scan {old['wall_s']:7.3f} s "
                  f"(cpu {old['cpu_s']:.3f})  sql {new['wall_s']:7.3f} s "
                  f"(cpu {new['cpu_s']:.3f})  same hits: {same}", flush=True)
        return figures
    finally:
        graph.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--nodes", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    path = WORK / f"history_search-{uuid.uuid4().hex[:8]}.db"
    report: dict[str, Any] = {"sqlite": {}, "postgresql": None}
    try:
        report["sqlite"] = run(f"sqlite:///{path}", args.nodes, args.repeat)
    finally:
        for leftover in WORK.glob(f"{path.name}*"):
            leftover.unlink()
    if args.postgres:
        import psycopg

        name = f"rg_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
            try:
                report["postgresql"] = run(f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}",
                                           args.nodes, args.repeat)
            finally:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    report["machine"] = machine()
    save(report, RESULTS)


if __name__ == "__main__":
    main()
