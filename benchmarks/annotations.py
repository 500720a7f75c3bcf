"""How fast does the annotation store take bulk writes and answer time-window queries?

Synthesises a seeded catalogue (default 200,000 annotations over 100 two-hour assets, each
asset annotated by three producers: shots and scenes, per-shot labels, frame-level
detections with boxes, plus a few whole-asset labels that cover everything) and one dense
asset with a detection in each of 100,000 frames (~69 minutes at 24 fps), writes it with
``AnnotationStore.put`` into SQLite (a file under benchmarks/work/) and into a fresh
PostgreSQL database (created and dropped here), and times:

- bulk insert: annotations per second through ``put`` (checks and schema validation
  included, one transaction per (asset, producer) set),
- window queries, p50/p99, for random 10-second and 5-minute windows of random assets, and
  10-second windows of the dense asset:
  ``store.query(asset, window=...)`` end to end, and the same SELECT three ways: with the
  time-bin predicate (what the store runs), without it (the rows of the asset's current
  sets, filtered; what a plain ``(set_id, start_ns)`` index gives), and as a full table scan
  (SQLite ``NOT INDEXED``; PostgreSQL with index scans disabled). The three return the same
  rows (checked); the ratios say what the index buys.

    python benchmarks/annotations.py                       # 300k annotations, a few minutes
    python benchmarks/annotations.py --annotations 20000 --assets 10 --dense-frames 0 \
        --backends sqlite
"""

from __future__ import annotations

import argparse
import itertools
import os
import random
import statistics
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, text

from machine import machine, save
from reelgraph.core import Database
from reelgraph.media.annotations import Annotation, AnnotationStore, Producer, Region
from reelgraph.media.annotations.timebins import bin_ranges

HERE = Path(__file__).resolve().parent
WORK = HERE / "work"
RESULTS = HERE / "results" / "annotations.json"
PG_ADMIN_URL = os.environ.get(
    "REELGRAPH_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)

S = 10**9
FRAME = 41_666_667  # one frame at 24 fps, in ns
FILM_S = 2 * 3600
LABELS = ("dialogue", "action", "landscape", "crowd", "night", "car", "kiss", "fight")
OBJECTS = ("face", "car", "dog", "gun", "phone")
WINDOWS_S = {"10s": 10, "5min": 300, "10s_dense": 10}  # dense: the per-frame asset
DENSE = "rg://media_asset/bench/dense"

SHOTS = Producer("shots/content-detector", "1.0")
TAGS = Producer("labels/clip", "0.3", model_version="clip-vit-b32")
DETECTIONS = Producer("detect/yolo", "8.1", model_version="yolov8n")


# --- synthetic catalogue -------------------------------------------------------------------


def asset_sets(asset: int, per_asset: int, rng: random.Random
               ) -> list[tuple[Producer, list[Annotation]]]:
    """One asset's three producer sets, about ``per_asset`` annotations in all."""
    n_shots = max(2, per_asset * 3 // 10)
    cuts = sorted(rng.sample(range(1, FILM_S * 24), n_shots - 1))  # frame numbers
    bounds = [0, *cuts, FILM_S * 24]
    shots = [Annotation("shot", a * FRAME, b * FRAME, data={"index": i})
             for i, (a, b) in enumerate(itertools.pairwise(bounds))]
    scenes = []
    for i, start in enumerate(range(0, len(shots), 15)):
        group = shots[start:start + 15]
        scenes.append(Annotation("scene", group[0].start_ns, group[-1].end_ns,
                                 data={"index": i}))
    tags = [Annotation("label", s.start_ns, s.end_ns, label=rng.choice(LABELS),
                       confidence=round(rng.random(), 3)) for s in shots]
    tags += [Annotation("label", 0, FILM_S * S, label=name, confidence=0.99)  # whole film
             for name in ("color", "english")]
    detections = []
    for _ in range(max(0, per_asset - len(shots) - len(scenes) - len(tags))):
        frame = rng.randrange(FILM_S * 24 - 1)
        x, y = rng.random() * 0.7, rng.random() * 0.7
        detections.append(Annotation(
            "detection", frame * FRAME, (frame + 1) * FRAME, label=rng.choice(OBJECTS),
            confidence=round(rng.random(), 3),
            region=Region.box(x, y, x + 0.05 + rng.random() * 0.25,
                              y + 0.05 + rng.random() * 0.25)))
    return [(SHOTS, shots + scenes), (TAGS, tags), (DETECTIONS, detections)]


def dense_asset(frames: int, rng: random.Random) -> list[Annotation]:
    """One detection in every frame: a long asset, where scanning it all is expensive."""
    out = []
    for frame in range(frames):
        x, y = rng.random() * 0.7, rng.random() * 0.7
        out.append(Annotation("detection", frame * FRAME, (frame + 1) * FRAME,
                              label=rng.choice(OBJECTS), confidence=round(rng.random(), 3),
                              region=Region.box(x, y, x + 0.2, y + 0.2)))
    return out


# --- timing --------------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


@dataclass
class Timing:
    ms: list[float] = field(default_factory=list)
    sizes: list[int] = field(default_factory=list)

    def time(self, call: Callable[[], int]) -> None:
        start = time.perf_counter()
        size = call()
        self.ms.append((time.perf_counter() - start) * 1000)
        self.sizes.append(size)

    def summary(self) -> dict[str, float]:
        return {"p50_ms": round(percentile(self.ms, 50), 3),
                "p99_ms": round(percentile(self.ms, 99), 3),
                "mean_rows": round(statistics.fmean(self.sizes), 1),
                "queries": len(self.ms)}


_SELECT = ("SELECT a.id, a.type, a.start_ns, a.end_ns, a.label, a.confidence, a.data "
           "FROM rg_annotation a{hint} WHERE a.set_id IN ({sets}) "
           "AND a.start_ns < :we AND a.end_ns > :ws{bins} ORDER BY a.start_ns, a.end_ns, a.id")


def sql_query(conn: Connection, asset: str, ws: int, we: int, how: str, sqlite: bool) -> int:
    """The store's window SELECT, with the set ids resolved first as the store does it."""
    params: dict[str, Any] = {"ws": ws, "we": we}
    with conn.begin():
        ids = [row[0] for row in conn.execute(
            text("SELECT set_id FROM rg_annotation_current WHERE asset = :asset"),
            {"asset": asset})]
    sets = ", ".join(str(i) for i in ids)
    bins = ""
    if how == "indexed":
        terms = []
        for i, (low, high) in enumerate(bin_ranges(ws, we)):
            terms.append(f"a.bin BETWEEN :l{i} AND :h{i}")
            params |= {f"l{i}": low, f"h{i}": high}
        bins = f" AND ({' OR '.join(terms)})"
    hint = " NOT INDEXED" if how == "full_scan" and sqlite else ""
    statement = text(_SELECT.format(hint=hint, sets=sets, bins=bins))
    if how == "full_scan" and not sqlite:
        with conn.begin():
            for setting in ("enable_indexscan", "enable_bitmapscan", "enable_indexonlyscan"):
                conn.exec_driver_sql(f"SET LOCAL {setting} = off")
            return len(conn.execute(statement, params).all())
    with conn.begin():
        return len(conn.execute(statement, params).all())


def run_store(name: str, url: str, catalogue: list[tuple[str, Producer, list[Annotation]]],
              queries: list[tuple[str, str, int, int]]) -> dict[str, Any]:
    store = AnnotationStore(Database.open(url))
    total = sum(len(items) for _, _, items in catalogue)
    print(f"[{name}] writing {total:,} annotations in {len(catalogue)} sets ...", flush=True)
    start = time.perf_counter()
    for asset, producer, items in catalogue:
        store.put(producer, asset, items)
    put_s = time.perf_counter() - start
    print(f"[{name}] written in {put_s:.1f} s ({total / put_s:,.0f}/s)", flush=True)
    sqlite = url.startswith("sqlite")
    with store.engine.connect() as conn:  # fresh planner statistics, as after autovacuum
        conn.exec_driver_sql("ANALYZE")
        conn.commit()
    timings: dict[str, dict[str, Timing]] = {
        w: {h: Timing() for h in ("api", "indexed", "asset_scan", "full_scan")}
        for w in dict.fromkeys(q[1] for q in queries)}
    mismatches = 0
    with store.engine.connect() as conn:
        for asset, _, ws, we in queries[:10]:  # warm the caches a server would have warm
            store.query(asset, window=(ws, we))
            sql_query(conn, asset, ws, we, "full_scan", sqlite)
        for asset, window, ws, we in queries:
            timing = timings[window]
            timing["api"].time(lambda a=asset, s=ws, e=we: len(store.query(a, window=(s, e))))
            for how in ("indexed", "asset_scan", "full_scan"):
                timing[how].time(lambda a=asset, s=ws, e=we, h=how:
                                 sql_query(conn, a, s, e, h, sqlite))
            sizes = {timing[h].sizes[-1] for h in timing}
            mismatches += len(sizes) != 1
    print(f"[{name}] queries done", flush=True)
    result: dict[str, Any] = {
        "annotations": total,
        "sets": len(catalogue),
        "put_s": round(put_s, 2),
        "put_per_s": round(total / put_s),
        "windows": {},
        "answers_differing": mismatches,
    }
    for window, timing in timings.items():
        summary = {how: t.summary() for how, t in timing.items()}
        indexed = summary["indexed"]["p50_ms"]
        summary["asset_scan_over_indexed_p50"] = round(summary["asset_scan"]["p50_ms"] / indexed, 1)
        summary["full_scan_over_indexed_p50"] = round(summary["full_scan"]["p50_ms"] / indexed, 1)
        result["windows"][window] = summary
    store.close()
    return result


def run_sqlite(catalogue: list[tuple[str, Producer, list[Annotation]]],
               queries: list[tuple[str, str, int, int]]) -> dict[str, Any]:
    path = WORK / "annotations.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    result = run_store("sqlite", f"sqlite:///{path}", catalogue, queries)
    result["file_mb"] = round(path.stat().st_size / 2**20, 1)
    return result


def run_postgres(catalogue: list[tuple[str, Producer, list[Annotation]]],
                 queries: list[tuple[str, str, int, int]]) -> dict[str, Any]:
    import psycopg

    name = f"rg_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            result = run_store("postgres", f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}",
                               catalogue, queries)
            version = admin.execute("SHOW server_version").fetchone()
            result["server"] = str(version[0]) if version else "?"
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return result


# --- report --------------------------------------------------------------------------------


def table(results: dict[str, dict[str, Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    out = Table(title="Annotation store: bulk insert and window queries (p50 / p99 ms)")
    out.add_column("figure", no_wrap=True)
    for name in results:
        out.add_column(name, justify="right")
    out.add_row("put, annotations/s", *(f"{r['put_per_s']:,}" for r in results.values()))
    for window in next(iter(results.values()))["windows"]:
        for how in ("api", "indexed", "asset_scan", "full_scan"):
            out.add_row(f"{window} window, {how}", *(
                f"{r['windows'][window][how]['p50_ms']:.2f} / "
                f"{r['windows'][window][how]['p99_ms']:.2f}" for r in results.values()))
        out.add_row(f"{window}: asset scan / indexed, full scan / indexed", *(
            f"{r['windows'][window]['asset_scan_over_indexed_p50']}x, "
            f"{r['windows'][window]['full_scan_over_indexed_p50']}x"
            for r in results.values()))
        out.add_row(f"{window}: mean rows", *(
            f"{r['windows'][window]['indexed']['mean_rows']}" for r in results.values()))
    Console(width=120).print(out)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--annotations", type=int, default=200_000)
    parser.add_argument("--assets", type=int, default=100)
    parser.add_argument("--queries", type=int, default=200, help="per window size")
    parser.add_argument("--dense-frames", type=int, default=100_000,
                        help="frames of the extra asset with one detection per frame")
    parser.add_argument("--seed", type=int, default=20261126)
    parser.add_argument("--backends", default="sqlite,postgres",
                        help="comma-separated: sqlite, postgres")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    if set(backends) - {"sqlite", "postgres"}:
        parser.error("back-ends are sqlite and postgres")

    WORK.mkdir(parents=True, exist_ok=True)
    started = datetime.now(UTC)
    start = time.perf_counter()
    rng = random.Random(args.seed)
    catalogue = [(f"rg://media_asset/bench/film-{a:04d}", producer, items)
                 for a in range(args.assets)
                 for producer, items in asset_sets(a, args.annotations // args.assets, rng)]
    if args.dense_frames:
        catalogue.append((DENSE, DETECTIONS, dense_asset(args.dense_frames, rng)))
    queries = []
    for window, seconds in WINDOWS_S.items():
        if window.endswith("_dense") and not args.dense_frames:
            continue
        for _ in range(args.queries):
            if window.endswith("_dense"):
                asset = DENSE
                ws = rng.randrange(0, args.dense_frames * FRAME - seconds * S)
            else:
                asset = f"rg://media_asset/bench/film-{rng.randrange(args.assets):04d}"
                ws = rng.randrange(0, (FILM_S - seconds) * S)
            queries.append((asset, window, ws, ws + seconds * S))
    runners = {"sqlite": run_sqlite, "postgres": run_postgres}
    results = {name: runners[name](catalogue, queries) for name in backends}
    table(results)
    types: dict[str, int] = {}
    for _, _, items in catalogue:
        for item in items:
            types[item.type] = types.get(item.type, 0) + 1
    report = {
        "benchmark": "annotations",
        "timestamp": started.isoformat(timespec="seconds"),
        "seed": args.seed,
        "sizes": {"annotations": sum(types.values()), "assets": args.assets,
                  "asset_length_s": FILM_S, "dense_asset_frames": args.dense_frames,
                  "types": types,
                  "producers": [SHOTS.name, TAGS.name, DETECTIONS.name]},
        "queries": {"per_window": args.queries, "windows_s": WINDOWS_S},
        "machine": machine(),
        "results": results,
        "total_s": round(time.perf_counter() - start, 1),
    }
    save(report, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
