"""How fast are lineage, impact and search on a large lifecycle graph, on SQLite and PostgreSQL?

Builds a seeded synthetic graph (default 1,000,000 nodes and 5,000,000 edges) with the shape
of a real platform, bulk-loads it into SQLite (a file under benchmarks/work/) and into a fresh
PostgreSQL database (created and dropped here), and times:

- bulk load (nodes + edges per second),
- 10-hop upstream lineage, ``Graph.lineage(uri, "upstream", depth=10)``, p50/p99,
- impact analysis, ``Graph.impact(uri)`` from datasets and features, p50/p99,
- search, ``Graph.search(words)``, p50,

and the same lineage and impact walks on networkx in memory as a reference. Answer sizes are
reported too, and every store's answers are checked against networkx's.

    python benchmarks/graph_lineage.py                          # full size, ~15 minutes
    python benchmarks/graph_lineage.py --nodes 100000 --edges 500000 --backends sqlite

Shape: nodes are spread over namespaces of ~500 (one team's corner of the platform). Inside
a namespace, datasets and features form ``derived_from`` chains (each takes 1-3 parents among
the few items made just before it, so chains run deep); runs read data and produce it; model
versions are trained on datasets and use features; deployments serve versions and use
features; consumers, monitors, experiments and incidents hang off those. A small share of
``derived_from`` edges reaches into an older namespace, as shared datasets do.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import time
import uuid
from array import array
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from machine import machine, save
from reelgraph.core import Database
from reelgraph.graph import Graph, GraphStore, NodeKey, NodeSpec
from reelgraph.graph.kinds import Flow, KindRegistry

HERE = Path(__file__).resolve().parent
WORK = HERE / "work"
RESULTS = HERE / "results" / "graph_lineage.json"
PG_ADMIN_URL = os.environ.get(
    "REELGRAPH_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)

DOMAINS = ("personalization", "studio", "ads", "payments", "search", "growth", "content",
           "messaging")
WORDS = ("watch", "history", "session", "click", "title", "artwork", "trailer", "genre",
         "country", "device", "profile", "billing", "churn", "rating", "search", "query",
         "impression", "play", "audio", "subtitle", "thumbnail", "ranker", "embedding",
         "daily", "hourly", "aggregate", "member", "catalog", "promo", "campaign")

# Share of the nodes per kind; "model" holds base models, "model@" their versions.
SHARES: dict[str, float] = {
    "dataset": 0.150, "feature": 0.280, "embedding": 0.050, "job": 0.010, "run": 0.140,
    "artifact": 0.050, "media_asset": 0.050, "model": 0.020, "model@": 0.080,
    "deployment": 0.060, "consumer": 0.040, "monitor": 0.050, "experiment": 0.003,
    "experiment_cell": 0.006, "incident": 0.011,
}
NODES_PER_NAMESPACE = 500
WINDOW = 8  # a derived item picks its parents among the WINDOW items made just before it
SOURCES = 5  # datasets per namespace that come straight from media assets
CROSS_NAMESPACE = 0.01  # share of derived items that also read an older namespace's source


@dataclass
class Synthetic:
    """The graph as arrays: node i has ``uris[i]``/``kinds[i]``; edge j is src/kind/dst."""

    uris: list[str] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)
    namespaces: list[int] = field(default_factory=list)
    src: array = field(default_factory=lambda: array("i"))  # type: ignore[type-arg]
    dst: array = field(default_factory=lambda: array("i"))  # type: ignore[type-arg]
    kind: array = field(default_factory=lambda: array("b"))  # type: ignore[type-arg]
    edge_kinds: list[str] = field(default_factory=list)

    def add_edge(self, src: int, kind: str, dst: int) -> None:
        if kind not in self.edge_kinds:
            self.edge_kinds.append(kind)
        self.src.append(src)
        self.dst.append(dst)
        self.kind.append(self.edge_kinds.index(kind))

    def edges(self) -> Iterator[tuple[str, str, str]]:
        uris, names = self.uris, self.edge_kinds
        for s, k, d in zip(self.src, self.kind, self.dst, strict=True):
            yield uris[s], names[k], uris[d]

    def specs(self) -> Iterator[NodeSpec]:
        rng = random.Random(0)
        for uri, ns in zip(self.uris, self.namespaces, strict=True):
            key = NodeKey.parse(uri)
            words = rng.sample(WORDS, 3)
            yield NodeSpec(
                key,
                domain=DOMAINS[ns % len(DOMAINS)],
                owner=f"team-{ns % 97}",
                description=f"{' '.join(words)} {key.kind} for {DOMAINS[ns % len(DOMAINS)]}",
                tags=(words[0], key.kind),
                properties={"tier": ns % 3, "words": words[1:]},
            )


def synthesize(n_nodes: int, n_edges: int, seed: int) -> Synthetic:
    """A seeded graph with exactly ``n_nodes`` nodes and ``n_edges`` edges."""
    rng = random.Random(seed)
    g = Synthetic()
    n_ns = max(1, n_nodes // NODES_PER_NAMESPACE)
    counts = {k: int(share * n_nodes) for k, share in SHARES.items()}
    counts["feature"] += n_nodes - sum(counts.values())
    # pools[ns][kind] = node indices of that kind in namespace ns, in creation order
    pools: list[dict[str, list[int]]] = [{k: [] for k in SHARES} for _ in range(n_ns)]
    for kind, count in counts.items():
        for j in range(count):
            ns = j % n_ns
            domain = DOMAINS[ns % len(DOMAINS)]
            pool = pools[ns][kind]
            if kind == "model@":
                base = pools[ns]["model"][len(pool) % len(pools[ns]["model"])]
                uri = f"{g.uris[base]}@{len(pool) // len(pools[ns]['model']) + 1}"
            else:
                uri = f"rg://{kind}/{domain}-{ns:04d}/{rng.choice(WORDS)}_{kind}_{j:07d}"
            pool.append(len(g.uris))
            g.uris.append(uri)
            g.kinds.append(kind.rstrip("@"))
            g.namespaces.append(ns)

    def pick(items: Sequence[int], k: int) -> list[int]:
        return rng.sample(items, min(k, len(items)))

    def near(items: Sequence[int], span: int) -> Sequence[int]:
        """A random run of ``span`` neighbouring items: a model uses one group of features."""
        start = rng.randrange(max(1, len(items) - span + 1))
        return items[start : start + span]

    for ns, p in enumerate(pools):
        older = pools[rng.randrange(ns)] if ns else None
        # Data items in one creation order: source datasets (from media) first, then
        # datasets, features, embeddings and artifacts, each derived from recent items and
        # written by the run that read those items. Runs follow the same order.
        data: list[int] = []
        runs = p["run"]
        kinds = ("dataset", "feature", "embedding", "artifact")
        total = sum(len(p[k]) for k in kinds)
        run_seen = -1
        for kind in kinds:
            for item in p[kind]:
                if kind == "dataset" and len(data) < SOURCES:
                    for media in pick(p["media_asset"], 1):
                        g.add_edge(item, "derived_from", media)
                else:
                    for parent in pick(data[-WINDOW:], rng.randint(1, 3)):
                        g.add_edge(item, "derived_from", parent)
                    # Shared data: only another namespace's source datasets are reused, so
                    # impact spreads one namespace further, not along a chain of them.
                    if older and rng.random() < CROSS_NAMESPACE:
                        g.add_edge(item, "derived_from", rng.choice(older["dataset"][:SOURCES]))
                if runs:
                    r = len(data) * len(runs) // total
                    if r != run_seen:  # a new run reads the items made just before it
                        run_seen = r
                        for source in pick(data[-WINDOW:], 3):
                            g.add_edge(runs[r], "reads", source)
                    g.add_edge(item, "produced_by", runs[r])
                data.append(item)
        for run in runs:
            if p["job"]:
                g.add_edge(run, "run_of", rng.choice(p["job"]))
        for i, version in enumerate(p["model@"]):
            g.add_edge(version, "version_of", p["model"][i % len(p["model"])])
            for item in pick(near(p["dataset"], 6), 3):
                g.add_edge(version, "trained_on", item)
            if p["run"]:
                g.add_edge(version, "produced_by", rng.choice(p["run"]))
            if p["experiment"] and rng.random() < 0.1:
                g.add_edge(version, "in_experiment", rng.choice(p["experiment"]))
        for i, cell in enumerate(p["experiment_cell"]):
            if p["experiment"]:
                g.add_edge(cell, "part_of", p["experiment"][i % len(p["experiment"])])
        for deployment in p["deployment"]:
            for version in pick(p["model@"], 1):
                g.add_edge(version, "deployed_as", deployment)
            for consumer in pick(p["consumer"], 2):
                g.add_edge(deployment, "consumed_by", consumer)
        for item in p["dataset"][::10]:
            for consumer in pick(p["consumer"], 1):
                g.add_edge(item, "consumed_by", consumer)
        watched = p["model@"] + p["deployment"] + p["dataset"]
        for monitor in p["monitor"]:
            for target in pick(watched, 2):
                g.add_edge(monitor, "monitors", target)
        for incident in p["incident"]:
            for target in pick(watched, 2):
                g.add_edge(incident, "affects", target)
    # The rest of the edge budget: features used by model versions (3/4) and deployments.
    missing = n_edges - len(g.src)
    if missing < 0:
        raise SystemExit(f"--edges {n_edges} is too few for {n_nodes} nodes; "
                         f"the structure alone needs {len(g.src)}")
    users = [(v, ns) for ns, p in enumerate(pools) for v in p["model@"]]
    users += [(d, ns) for ns, p in enumerate(pools) for d in p["deployment"]]
    weights = [3.0 if g.kinds[u] == "model" else 1.0 for u, _ in users]
    share = missing / sum(weights)
    carry = 1e-6  # rounding: the last user takes the last edge
    for (user, ns), weight in zip(users, weights, strict=True):
        carry += share * weight  # a namespace with too few features passes its share on
        features = pools[ns]["feature"] + pools[ns]["embedding"]
        for item in pick(near(features, 2 * int(carry)), int(carry)):
            g.add_edge(user, "uses_feature", item)
            carry -= 1
    if len(g.src) != n_edges:
        raise SystemExit(f"--edges {n_edges} is too many for {n_nodes} nodes; "
                         f"this shape holds {len(g.src)}")
    return g


# --- reference: networkx ---------------------------------------------------------------------


def upstream_digraph(g: Synthetic, registry: KindRegistry) -> Any:
    """A DiGraph with an arc from every node to each node directly upstream of it."""
    import networkx as nx

    flows = [registry.edge_kind(name).flow for name in g.edge_kinds]
    arcs = (
        (s, d) if flows[k] == Flow.UP else (d, s)
        for s, k, d in zip(g.src, g.kind, g.dst, strict=True)
        if flows[k] != Flow.NONE
    )
    digraph = nx.DiGraph()
    digraph.add_nodes_from(range(len(g.uris)))
    digraph.add_edges_from(arcs)
    return digraph


def nx_reach(adjacency: Any, root: int, depth: int) -> int:
    """Nodes within ``depth`` hops of root (root included), breadth first, as the store walks."""
    seen = {root}
    frontier = deque([(root, 0)])
    while frontier:
        node, hops = frontier.popleft()
        if hops == depth:
            continue
        for nxt in adjacency[node]:
            if nxt not in seen:
                seen.add(nxt)
                frontier.append((nxt, hops + 1))
    return len(seen)


# --- timing ----------------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


@dataclass
class Timing:
    ms: list[float] = field(default_factory=list)
    sizes: list[int] = field(default_factory=list)

    def time(self, call: Callable[[Any], int], arg: Any) -> None:
        start = time.perf_counter()
        size = call(arg)
        self.ms.append((time.perf_counter() - start) * 1000)
        self.sizes.append(size)

    def summary(self) -> dict[str, float]:
        return {
            "p50_ms": round(percentile(self.ms, 50), 3),
            "p99_ms": round(percentile(self.ms, 99), 3),
            "mean_nodes": round(statistics.fmean(self.sizes), 1),
            "max_nodes": max(self.sizes),
            "queries": len(self.ms),
        }


@dataclass
class Workload:
    lineage_roots: list[int]
    impact_roots: list[int]
    searches: list[str]


def workload(g: Synthetic, n: int, seed: int) -> Workload:
    rng = random.Random(seed + 1)
    data = [i for i, k in enumerate(g.kinds) if k in ("dataset", "feature")]
    return Workload(
        lineage_roots=[rng.randrange(len(g.uris)) for _ in range(n)],
        impact_roots=rng.sample(data, min(n, len(data))),
        searches=[" ".join(rng.sample(WORDS, rng.randint(1, 2))) for _ in range(max(20, n // 3))],
    )


def run_store(name: str, store: GraphStore, g: Synthetic, work: Workload) -> dict[str, Any]:
    print(f"[{name}] bulk loading {len(g.uris):,} nodes and {len(g.src):,} edges ...", flush=True)
    start = time.perf_counter()
    store.bulk_load(g.specs(), g.edges())
    load_s = time.perf_counter() - start
    print(f"[{name}] loaded in {load_s:.1f} s", flush=True)
    graph = Graph(store)
    for root in work.lineage_roots[:10]:  # warm the caches a real server would have warm
        graph.lineage(g.uris[root], "upstream", depth=10)
    lineage, impact, search = Timing(), Timing(), Timing()
    for root in work.lineage_roots:
        lineage.time(lambda uri: len(graph.lineage(uri, "upstream", depth=10).nodes), g.uris[root])
    for root in work.impact_roots:
        impact.time(lambda uri: len(graph.impact(uri).nodes), g.uris[root])
    for words in work.searches:
        search.time(lambda text: len(graph.search(text)), words)
    print(f"[{name}] queries done", flush=True)
    return {
        "bulk_load_s": round(load_s, 2),
        "bulk_load_per_s": round((len(g.uris) + len(g.src)) / load_s),
        "lineage_10_upstream": lineage.summary(),
        "impact": impact.summary(),
        "search": search.summary(),
        "_sizes": {"lineage": lineage.sizes, "impact": impact.sizes},
    }


def run_sqlite(g: Synthetic, work: Workload) -> dict[str, Any]:
    from reelgraph.graph.sql.sqlite import SqliteGraphStore

    path = WORK / "graph_lineage.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    store = SqliteGraphStore(Database.open(f"sqlite:///{path}"))
    try:
        result = run_store("sqlite", store, g, work)
    finally:
        store.close()
    result["file_mb"] = round(path.stat().st_size / 2**20)
    return result


def run_postgres(g: Synthetic, work: Workload) -> dict[str, Any]:
    import psycopg

    from reelgraph.graph.sql.postgres import PostgresGraphStore

    name = f"rg_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        url = f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
        try:
            store = PostgresGraphStore(Database.open(url))
            try:
                result = run_store("postgres", store, g, work)
                version = admin.execute("SHOW server_version").fetchone()
                result["server"] = str(version[0]) if version else "?"
            finally:
                store.close()
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return result


def run_networkx(g: Synthetic, work: Workload) -> dict[str, Any]:
    print("[networkx] building the DiGraph ...", flush=True)
    start = time.perf_counter()
    digraph = upstream_digraph(g, KindRegistry())
    build_s = time.perf_counter() - start
    lineage, impact = Timing(), Timing()
    upstream, downstream = digraph.succ, digraph.pred
    for root in work.lineage_roots:
        lineage.time(lambda node: nx_reach(upstream, node, 10), root)
    for root in work.impact_roots:
        impact.time(lambda node: nx_reach(downstream, node, 50), root)
    return {
        "build_s": round(build_s, 2),
        "lineage_10_upstream": lineage.summary(),
        "impact": impact.summary(),
        "_sizes": {"lineage": lineage.sizes, "impact": impact.sizes},
    }


# --- report ----------------------------------------------------------------------------------


def table(results: dict[str, dict[str, Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    ref = results.get("networkx")
    out = Table(title="Lifecycle graph: lineage, impact and search")
    out.add_column("query", no_wrap=True)
    for name in results:
        out.add_column(name, justify="right", no_wrap=True)
    for name in results:
        if name != "networkx" and ref:
            out.add_column(f"{name}/nx", justify="right", no_wrap=True)

    def cell(res: dict[str, Any], query: str, stat: str) -> str:
        value = res.get(query, {}).get(stat)
        return "-" if value is None else f"{value:,}"

    rows = [("bulk load, items/s", "", "bulk_load_per_s")]
    for query, label in (("lineage_10_upstream", "10-hop upstream"), ("impact", "impact"),
                         ("search", "search")):
        rows += [(f"{label} {stat.replace('_', ' ')}", query, stat)
                 for stat in ("p50_ms", "p99_ms", "mean_nodes")]
    for label, query, stat in rows:
        values = [
            (f"{res[stat]:,}" if stat in res else "-") if not query else cell(res, query, stat)
            for res in results.values()
        ]
        ratios = []
        for name, res in results.items():
            if name == "networkx" or not ref:
                continue
            mine, theirs = res.get(query, {}).get(stat), ref.get(query, {}).get(stat)
            ratios.append(f"{mine / theirs:.1f}x" if query and mine and theirs and
                          stat.endswith("_ms") else "")
        out.add_row(label, *values, *ratios)
    Console(width=max(120, shutil.get_terminal_size().columns)).print(out)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nodes", type=int, default=1_000_000)
    parser.add_argument("--edges", type=int, default=5_000_000)
    parser.add_argument("--seed", type=int, default=20261123)
    parser.add_argument("--queries", type=int, default=300, help="start nodes per query kind")
    parser.add_argument("--backends", default="sqlite,postgres,networkx",
                        help="comma-separated: sqlite, postgres, networkx")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    unknown = set(backends) - {"sqlite", "postgres", "networkx"}
    if unknown:
        parser.error(f"unknown back-end(s) {sorted(unknown)}; use sqlite, postgres, networkx")

    WORK.mkdir(parents=True, exist_ok=True)
    started = datetime.now(UTC)
    start = time.perf_counter()
    g = synthesize(args.nodes, args.edges, args.seed)
    synth_s = time.perf_counter() - start
    print(f"synthesised {len(g.uris):,} nodes, {len(g.src):,} edges in {synth_s:.1f} s", flush=True)
    work = workload(g, args.queries, args.seed)
    runners = {"sqlite": run_sqlite, "postgres": run_postgres, "networkx": run_networkx}
    results = {name: runners[name](g, work) for name in backends}

    # Every store must return what networkx returns: same node counts per start node.
    agreement: dict[str, dict[str, int]] = {}
    if "networkx" in results:
        ref_sizes = results["networkx"]["_sizes"]
        for name, res in results.items():
            if name != "networkx":
                agreement[name] = {
                    q: sum(a != b for a, b in zip(res["_sizes"][q], ref_sizes[q], strict=True))
                    for q in ("lineage", "impact")
                }
    for res in results.values():
        res.pop("_sizes")
    table(results)
    if agreement:
        print("answers differing from networkx (node counts):", agreement)
    edge_counts: dict[str, int] = {}
    for k in g.kind:
        edge_counts[g.edge_kinds[k]] = edge_counts.get(g.edge_kinds[k], 0) + 1
    node_counts: dict[str, int] = {}
    for k in g.kinds:
        node_counts[k] = node_counts.get(k, 0) + 1
    report = {
        "benchmark": "graph_lineage",
        "timestamp": started.isoformat(timespec="seconds"),
        "seed": args.seed,
        "sizes": {"nodes": len(g.uris), "edges": len(g.src), "node_kinds": node_counts,
                  "edge_kinds": edge_counts, "namespaces": max(g.namespaces) + 1},
        "queries": {"lineage": len(work.lineage_roots), "impact": len(work.impact_roots),
                    "search": len(work.searches)},
        "target": {"lineage_10_upstream_p50_ms_sqlite": 10.0},
        "machine": machine(),
        "results": results,
        "answers_differing_from_networkx": agreement,
        "total_s": round(time.perf_counter() - start, 1),
    }
    save(report, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
