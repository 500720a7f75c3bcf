"""What does a step cost on reelgraph's executors, next to Metaflow's local runtime?

Two flows whose steps do nothing, so all that is measured is the platform's own work:

- ``linear``: 20 steps in a chain (20 tasks);
- ``foreach``: a start step, a 100-way fan-out and a join (102 tasks in reelgraph; Metaflow
  needs an ``end`` step too, so 103 there).

Each runs on reelgraph's ``local`` executor and ``ray`` executor (``Runner.run`` in this
process; Ray started once beforehand, its start-up time reported apart), and as the same
flows written as Metaflow ``FlowSpec``s run with ``python FILE run`` (local metadata and
datastore, in a subprocess, as a user runs them). Nothing is subtracted: the figure is the
run's wall time divided by its number of tasks. A plain Python loop calling the same
functions shows the floor. Each figure is the median of a few repeats.

    python benchmarks/flow_overhead.py                    # ~5 minutes
    python benchmarks/flow_overhead.py --metaflow-repeats 1 --repeats 3

Target: the local executor's per-step overhead at least 20x lower than Metaflow's.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from machine import versions as package_versions
from reelgraph.core import Settings
from reelgraph.flows import Flow, Runner, Workspace

HERE = Path(__file__).resolve().parent
WORK = HERE / "work" / "flow_overhead"
RESULTS = HERE / "results" / "flow_overhead.json"
LINEAR_STEPS = 20
FANOUT = 100
TARGET = 20.0


# --- the flows, in reelgraph -------------------------------------------------------------

def _define(name: str, args: str) -> Callable[..., Any]:
    """A do-nothing function at module level (the local executor pickles by name)."""
    source = f"def {name}({args}):\n    return None\n"
    exec(source, globals())  # generated: 20 distinct names, each taking the one before
    fn: Callable[..., Any] = globals()[name]
    return fn


def linear_flow() -> tuple[Flow, list[Callable[[], Any]]]:
    flow = Flow("bench-linear", namespace="bench")
    calls: list[Callable[[], Any]] = []
    for i in range(LINEAR_STEPS):
        fn = _define(f"linear_{i}", f"linear_{i - 1}" if i else "")
        flow.step(fn)
        calls.append(fn if i == 0 else partial(fn, None))
    return flow, calls


def items() -> list[int]:
    return list(range(FANOUT))


def work(item: int) -> None:
    return None


def gather(work: list[None]) -> int:
    return len(work)


def foreach_flow() -> tuple[Flow, list[Callable[[], Any]]]:
    flow = Flow("bench-foreach", namespace="bench")
    flow.step(items)
    flow.step(foreach="items")(work)
    flow.step(gather)
    calls: list[Callable[[], Any]] = [items, *[partial(work, i) for i in range(FANOUT)],
                                      partial(gather, [None] * FANOUT)]
    return flow, calls


# --- the same flows, in Metaflow ---------------------------------------------------------

def metaflow_linear() -> str:
    lines = ["from metaflow import FlowSpec, step", "", "", "class BenchLinear(FlowSpec):"]
    names = ["start", *[f"s{i}" for i in range(1, LINEAR_STEPS - 1)], "end"]
    for here, after in zip(names, [*names[1:], None], strict=True):
        body = f"self.next(self.{after})" if after else "pass"
        lines += ["    @step", f"    def {here}(self):", f"        {body}", ""]
    lines += ["", 'if __name__ == "__main__":', "    BenchLinear()", ""]
    return "\n".join(lines)


METAFLOW_FOREACH = f'''from metaflow import FlowSpec, step


class BenchForeach(FlowSpec):
    @step
    def start(self):
        self.items = list(range({FANOUT}))
        self.next(self.work, foreach="items")

    @step
    def work(self):
        self.next(self.gather)

    @step
    def gather(self, inputs):
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    BenchForeach()
'''


def run_metaflow(folder: Path, file: str) -> float:
    """One run with Metaflow's defaults (up to 16 tasks at once)."""
    env = {**os.environ, "METAFLOW_HOME": str(folder / "home"), "USERNAME": "bench",
           "METAFLOW_DEFAULT_METADATA": "local", "METAFLOW_DEFAULT_DATASTORE": "local"}
    started = time.perf_counter()
    done = subprocess.run([sys.executable, file, "run"],
                          cwd=folder, env=env, capture_output=True, text=True, check=False)
    took = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"Metaflow run of {file} failed:\n{done.stderr[-3000:]}")
    return took


# --- measuring ---------------------------------------------------------------------------

def timed(fn: Callable[[], Any], repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return times


def call_all(calls: Sequence[Callable[[], Any]]) -> None:
    for call in calls:
        call()


def run_reelgraph(ws: Workspace, flow: Flow, executor: str) -> None:
    run = Runner(ws).run(flow, executor=executor, seed=1)
    if run.status != "succeeded":
        raise SystemExit(f"{flow.name} on {executor} failed: {run.error}")


def versions() -> dict[str, str]:
    return package_versions("ray", "metaflow")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5, help="reelgraph runs per figure")
    parser.add_argument("--metaflow-repeats", type=int, default=2,
                        help="Metaflow runs per figure (its 100-way foreach is slow)")
    parser.add_argument("--no-ray", action="store_true")
    parser.add_argument("--no-metaflow", action="store_true")
    args = parser.parse_args()

    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    workers = max(os.cpu_count() or 1, 2)  # the local executor's pool size
    flows = {"linear": linear_flow(), "foreach": foreach_flow()}
    tasks = {"linear": LINEAR_STEPS, "foreach": FANOUT + 2}
    metaflow_tasks = {"linear": LINEAR_STEPS, "foreach": FANOUT + 3}
    raw: dict[str, dict[str, list[float]]] = {name: {} for name in flows}
    ray_start_s = None

    with Workspace.open(Settings.load(home=str(WORK / "home"), database_url="")) as ws:
        for name, (flow, calls) in flows.items():
            raw[name]["python_loop"] = timed(partial(call_all, calls), args.repeats)
            run_reelgraph(ws, flow, "local")  # warm-up: imports, database pages
            raw[name]["reelgraph_local"] = timed(
                partial(run_reelgraph, ws, flow, "local"), args.repeats)
        if not args.no_ray:
            import ray

            started = time.perf_counter()
            ray.init(address="local", include_dashboard=False, log_to_driver=False)
            ray_start_s = time.perf_counter() - started
            for name, (flow, _) in flows.items():
                run_reelgraph(ws, flow, "ray")  # warm-up: Ray's worker processes
                raw[name]["reelgraph_ray"] = timed(
                    partial(run_reelgraph, ws, flow, "ray"), args.repeats)
            ray.shutdown()

    if not args.no_metaflow:
        with tempfile.TemporaryDirectory(dir=WORK) as scratch:
            folder = Path(scratch)
            (folder / "bench_linear.py").write_text(metaflow_linear())
            (folder / "bench_foreach.py").write_text(METAFLOW_FOREACH)
            for name, file in (("linear", "bench_linear.py"), ("foreach", "bench_foreach.py")):
                raw[name]["metaflow_local"] = [run_metaflow(folder, file)
                                               for _ in range(args.metaflow_repeats)]

    figures: dict[str, dict[str, Any]] = {}
    for name, runs in raw.items():
        figures[name] = {}
        for system, times in runs.items():
            count = metaflow_tasks[name] if system == "metaflow_local" else tasks[name]
            total = statistics.median(times)
            figures[name][system] = {"tasks": count, "repeats": len(times),
                                     "total_s_median": total,
                                     "per_step_ms": total / count * 1000,
                                     "runs_s": times}
        metaflow_ms = figures[name].get("metaflow_local", {}).get("per_step_ms")
        for figure in figures[name].values():
            if metaflow_ms:
                figure["x_lower_than_metaflow"] = metaflow_ms / figure["per_step_ms"]

    print(f"\nper-step overhead (median wall time / tasks), {workers} workers")
    print(f"{'flow':<9}{'system':<17}{'tasks':>6}{'total s':>10}{'ms/step':>11}"
          f"{'x vs Metaflow':>15}")
    for name, systems in figures.items():
        for system, f in systems.items():
            ratio = f.get("x_lower_than_metaflow")
            shown = f"{ratio:,.1f}x" if ratio else "-"
            print(f"{name:<9}{system:<17}{f['tasks']:>6}{f['total_s_median']:>10.3f}"
                  f"{f['per_step_ms']:>11.4f}{shown:>15}")
    if ray_start_s is not None:
        print(f"Ray start-up (once per process, not in the figures): {ray_start_s:.1f} s")
    met = {name: systems["reelgraph_local"].get("x_lower_than_metaflow")
           for name, systems in figures.items()}
    print(f"target: local executor >= {TARGET:g}x lower than Metaflow: "
          + ", ".join(f"{n} {r:,.1f}x" if r else f"{n} n/a" for n, r in met.items()))

    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({
        "benchmark": "flow_overhead",
        "date": datetime.now(tz=UTC).isoformat(timespec="seconds"),
        "question": "per-step overhead of do-nothing flows: reelgraph local and Ray "
                    "executors vs Metaflow's local runtime",
        "flows": {"linear": f"{LINEAR_STEPS} steps in a chain",
                  "foreach": f"start, {FANOUT}-way foreach, join (+ end in Metaflow)"},
        "method": "wall time of one run / its tasks, median of repeats; reelgraph runs "
                  "in-process via Runner.run (Ray started beforehand), Metaflow via "
                  "`python FILE run` in a subprocess with local metadata and datastore; "
                  "nothing subtracted",
        "figures": figures,
        "ray_startup_s": ray_start_s,
        "target": {"x_lower_than_metaflow": TARGET, "local_executor": met,
                   "met": all(r is not None and r >= TARGET for r in met.values())},
        "machine": {"platform": platform.platform(), "processor": platform.processor(),
                    "cpus": os.cpu_count(), "workers": workers},
        "versions": versions(),
    }, indent=2) + "\n")
    print(f"saved {RESULTS.relative_to(HERE.parent)}")


if __name__ == "__main__":
    main()
