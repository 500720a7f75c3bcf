"""How long does a new user's first ``reelgraph demo`` take, and the second?

Each configuration runs the console script as a user does, output piped, in a fresh
``REELGRAPH_HOME`` (first run: everything computed), then again in the same home (second
run: everything memoized). Per run: wall seconds, CPU seconds (user + system of the demo and
every process it waited for, from ``RUSAGE_CHILDREN``), and each stage's own time as the
demo prints it when piped (``stage N: NAME: done in S s``). The machine's load average is
recorded before and after each run: on a shared machine wall time moves with other work,
CPU time much less.

    .venv/bin/python benchmarks/demo_first_run.py            # small (the default demo)
    .venv/bin/python benchmarks/demo_first_run.py --full     # and the full one (~30 min)

Target: the small first run under 5 minutes on 2 quiet cores, once ``.venv`` exists.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from machine import machine, versions

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "demo_first_run.json"
SCRIPT = Path(sys.executable).with_name("reelgraph")
STAGE = re.compile(r"^stage (\d+): (.+): done in ([\d.]+) s$", re.M)


def cpu_of_children() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def run(home: Path, full: bool) -> dict[str, Any]:
    env = {**os.environ, "REELGRAPH_HOME": str(home), "COLUMNS": "200"}
    env.pop("REELGRAPH_DATABASE_URL", None)
    load_before = os.getloadavg()[0]
    cpu = cpu_of_children()
    start = time.perf_counter()
    done = subprocess.run([str(SCRIPT), "demo", *(["--full"] if full else [])], env=env,
                          capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"reelgraph demo failed:\n{done.stderr[-3000:]}")
    return {"wall_s": round(wall, 1), "cpu_s": round(cpu_of_children() - cpu, 1),
            "load_1m_before": round(load_before, 2),
            "load_1m_after": round(os.getloadavg()[0], 2),
            "stages_s": {name: float(s) for _, name, s in STAGE.findall(done.stdout)}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--full", action="store_true", help="also time the full configuration")
    args = parser.parse_args()
    found: dict[str, dict[str, Any]] = {}
    for config in ("small", "full") if args.full else ("small",):
        with tempfile.TemporaryDirectory(prefix=f"demo-{config}-") as home:
            first = run(Path(home), config == "full")
            second = run(Path(home), config == "full")
        found[config] = {"first": first, "second": second,
                         "first_over_second_wall": round(first["wall_s"] / second["wall_s"], 1)}
    if "full" in found:
        found["full_over_small_first_cpu"] = {"ratio": round(
            found["full"]["first"]["cpu_s"] / found["small"]["first"]["cpu_s"], 1)}
    print(f"{'configuration':<14}{'run':<8}{'wall s':>8}{'CPU s':>8}{'load before':>13}"
          f"{'load after':>12}")
    for config, runs in found.items():
        for which in ("first", "second"):
            if which in runs:
                r = runs[which]
                print(f"{config:<14}{which:<8}{r['wall_s']:>8.1f}{r['cpu_s']:>8.1f}"
                      f"{r['load_1m_before']:>13.2f}{r['load_1m_after']:>12.2f}")
    for name, seconds in found["small"]["first"]["stages_s"].items():
        print(f"  small first run, {name}: {seconds:.1f} s")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps({"machine": machine(), "versions": versions("torch"),
                                   "results": found}, indent=2) + "\n")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
