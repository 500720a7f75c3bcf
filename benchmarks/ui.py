"""How fast does each page of the web UI first render, and a 2,000-node lineage view, in
headless Chromium on this machine?

Builds the browser tests' demo-like home (``tests/support/ui_home.py``: the demo's catalog
stage, its PureSVD model, a small unified recommender, a feature, one clip) with the ops
and match-cut seeds of ``tests/ui/ui_seeds.py`` (a diagnosed incident, a monitor, logged
requests; match cuts over two synthetic titles), adds a synthetic
lineage of about 2,000 nodes (a model over features over datasets, namespace ``bench``),
starts ``reelgraph serve`` on it and loads each page ``--repeats`` times in a fresh browser
tab. Time to first render is from navigation start to the moment the page's content is in
the DOM (the shell sets ``main[data-state=ready]``), as the page itself measures it.

Peers in the same run: the shell alone (an unknown page: HTML, CSS, the router, no data),
and each page's own API reads (first request start to last response end, from the browser's
resource timings), so the ratios say what the UI adds on top of the server.

    python benchmarks/ui.py                 # ~2-3 minutes, most of it building the home
    python benchmarks/ui.py --repeats 3

Goals (issue 13): under 500 ms per page, under 1.5 s for the 2,000-node view. Also timed:
a match-cut transition preview, rendered on its first request and cached after (issue 15).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import quote

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "support"))  # the tests' home and server
sys.path.insert(0, str(HERE.parent / "tests" / "ui"))  # the ops and match-cut seeds

from processes import stop_server  # noqa: E402
from ui_home import UiHome, build, page_routes  # noqa: E402
from ui_seeds import OpsSeed, seed_matchcut, seed_ops  # noqa: E402
from ui_server import CHROMIUM, CHROMIUM_ARGS, VIEWPORT, start_server  # noqa: E402

from machine import machine, save  # noqa: E402
from machine import versions as package_versions  # noqa: E402
from reelgraph.flows import Workspace  # noqa: E402
from reelgraph.graph import Batch  # noqa: E402

RESULTS = HERE / "results" / "ui.json"
BIG_MODEL = "rg://model/bench/wide-ranker@1"
GOAL_PAGE_MS, GOAL_BIG_MS = 500.0, 1500.0

API_SPAN = """() => {
  const api = performance.getEntriesByType('resource').filter(e => e.name.includes('/api/v1/'));
  if (!api.length) return null;
  return Math.max(...api.map(e => e.responseEnd)) - Math.min(...api.map(e => e.startTime));
}"""


DATA_MARK = "() => performance.getEntriesByName('lineage:data')[0]?.startTime ?? null"


def add_big_lineage(home: UiHome, features: int, per_feature: int) -> int:
    """A model using ``features`` features, each derived from ``per_feature`` datasets of
    its own: 1 + features * (1 + per_feature) nodes upstream of the model."""
    batch = Batch("ui benchmark")
    batch.add(BIG_MODEL, owner="bench", description="a model with a wide lineage")
    for f in range(features):
        feature = f"rg://feature/bench/f{f:03d}"
        batch.add(feature, owner="bench")
        batch.link(BIG_MODEL, "uses_feature", feature)
        for d in range(per_feature):
            dataset = f"rg://dataset/bench/f{f:03d}-d{d:03d}"
            batch.add(dataset, owner="bench")
            batch.link(feature, "derived_from", dataset)
    with Workspace.open(home.settings()) as ws:
        ws.graph.apply(batch.changes)
    return 1 + features * (1 + per_feature)


def routes(home: UiHome, ops: OpsSeed) -> dict[str, str]:
    q = lambda uri: quote(uri, safe="")  # noqa: E731
    return {
        "shell (no data)": "nowhere",
        **page_routes(home),
        "incidents": "incidents",
        "incident": f"incidents?name={ops.incident}",
        "monitors": "monitors",
        "replay": f"replay?id={ops.request_id}",
        "match cuts": "matchcut",
        "lineage (2,000 nodes)": f"lineage?uri={q(BIG_MODEL)}&depth=3",
    }


def measure(browser: Any, url: str, repeats: int) -> dict[str, Any]:
    renders, spans, data, errors = [], [], [], []
    for _ in range(repeats):
        context = browser.new_context(viewport=VIEWPORT)  # a cold cache every time
        page = context.new_page()
        page.on("console", lambda m: m.type == "error" and errors.append(m.text))
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(url)
        page.wait_for_selector("main[data-state=ready]", timeout=60_000)
        renders.append(page.evaluate("window.reelgraphRenderedAt"))
        spans.append(page.evaluate(API_SPAN))
        data.append(page.evaluate(DATA_MARK))
        context.close()
    api = [s for s in spans if s is not None]
    return {"render_ms_median": round(statistics.median(renders), 1),
            "render_ms_max": round(max(renders), 1),
            "api_ms_median": round(statistics.median(api), 1) if api else None,
            "renders_ms": [round(r, 1) for r in renders],
            # lineage pages: when the subgraph's JSON was in hand (the rest is drawing)
            "data_ms_median": round(statistics.median(d), 1) if (d := [x for x in data if x])
            else None,
            "console_errors": sorted(set(errors))}


def preview_ms(base: str) -> dict[str, float]:
    """The best pair's transition MP4: first request (rendered) and second (cached)."""
    with urllib.request.urlopen(f"{base}/api/v1/matchcut?limit=1", timeout=60) as answer:
        pair = json.load(answer)["pairs"][0]["id"]
    times = []
    for _ in range(2):
        started = time.perf_counter()
        with urllib.request.urlopen(f"{base}/api/v1/matchcut/{pair}/preview.mp4",
                                    timeout=120) as answer:
            answer.read()
        times.append(round((time.perf_counter() - started) * 1000, 1))
    return {"first_ms": times[0], "cached_ms": times[1],
            "first_vs_cached": round(times[0] / times[1], 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5, help="loads per page")
    parser.add_argument("--features", type=int, default=40)
    parser.add_argument("--per-feature", type=int, default=49, help="datasets per feature")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="reelgraph-ui-bench-") as work:
        started = time.perf_counter()
        home = build(Path(work) / "home")
        big = add_big_lineage(home, args.features, args.per_feature)
        ops = seed_ops(home.settings(), Path(work) / "ops")
        seed_matchcut(home.settings(), Path(work) / "matchcut")
        print(f"home built in {time.perf_counter() - started:.0f} s; big lineage: {big} nodes")
        server = start_server(home, Path(work) / "serve.log")
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                pages = {name: measure(browser, f"{server.url}/#/{route}", args.repeats)
                         for name, route in routes(home, ops).items()}
                browser.close()
            preview = preview_ms(server.url)
        finally:
            stop_server(server.process)

    shell = pages["shell (no data)"]["render_ms_median"]
    print(f"\n{'page':24} {'render p50':>11} {'max':>8} {'API p50':>8} {'/shell':>7} {'/API':>6}")
    for name, row in pages.items():
        row["vs_shell"] = round(row["render_ms_median"] / shell, 2)
        api = row["api_ms_median"]
        row["vs_api"] = round(row["render_ms_median"] / api, 2) if api else None
        print(f"{name:24} {row['render_ms_median']:9.0f}ms {row['render_ms_max']:6.0f}ms "
              f"{api or 0:6.0f}ms {row['vs_shell']:7.2f} {row['vs_api'] or 0:6.2f}"
              + (f"  console errors: {row['console_errors']}" if row["console_errors"] else ""))
    data_pages = {n: r for n, r in pages.items() if n not in ("shell (no data)",
                                                             "lineage (2,000 nodes)")}
    worst = max(r["render_ms_median"] for r in data_pages.values())
    big_ms = pages["lineage (2,000 nodes)"]["render_ms_median"]
    print(f"\nslowest page p50 {worst:.0f} ms (goal < {GOAL_PAGE_MS:.0f}); 2,000-node view "
          f"p50 {big_ms:.0f} ms (goal < {GOAL_BIG_MS:.0f})")
    print(f"match-cut preview: first request {preview['first_ms']:.0f} ms (rendered), "
          f"second {preview['cached_ms']:.0f} ms (cached), x{preview['first_vs_cached']}")
    save({"benchmark": "ui", "question": __doc__.split("\n\n")[0],
          "method": "page.goto in a fresh browser context (cold cache) per load; time from "
                    "navigation start to main[data-state=ready]; median of repeats",
          "repeats": args.repeats, "big_lineage_nodes": big, "browser": CHROMIUM,
          "viewport": VIEWPORT, "pages": pages, "matchcut_preview": preview,
          "summary": {"slowest_page_ms": worst, "goal_page_ms": GOAL_PAGE_MS,
                      "big_lineage_ms": big_ms, "goal_big_ms": GOAL_BIG_MS,
                      "pages_meet_goal": worst < GOAL_PAGE_MS,
                      "big_meets_goal": big_ms < GOAL_BIG_MS},
          "machine": machine(), "versions": package_versions("playwright", "fastapi")},
         args.out)


if __name__ == "__main__":
    main()
