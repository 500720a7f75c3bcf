"""Time `scripts/check --fast` (or any check command) with its CPU time, load and test count.

Wall-clock time on a shared machine says little; the CPU seconds of the whole process tree
(user + sys, from wait4's rusage of the children) and the load average sampled while it ran say
more. Compare runs made on the same machine close together, as ratios.

    .venv/bin/python benchmarks/check_fast.py --label after          # scripts/check --fast
    .venv/bin/python benchmarks/check_fast.py --label before --checkout /tmp/main-copy
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import subprocess
import threading
import time
from pathlib import Path

from machine import machine, save

ROOT = Path(__file__).resolve().parents[1]
# pytest's last line: "1020 passed, 12 skipped, 71 deselected in 469.12s (0:07:49)"
SUMMARY = re.compile(r"^=*\s*(?P<counts>\d+ \w+(?:, \d+ \w+)*)(?: in [\d.]+s.*)?\s*=*$")


def counts(output: str) -> dict[str, int]:
    """The outcome counts of pytest's last summary line ({} when there is none)."""
    for line in reversed(output.splitlines()):
        found = SUMMARY.match(line.strip())
        if found:
            return {word: int(n) for n, word in
                    (part.split(" ", 1) for part in found["counts"].split(", "))}
    return {}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--label", required=True, help="a name for this run in the JSON")
    parser.add_argument("--checkout", type=Path, default=ROOT,
                        help="the checkout whose scripts/check runs (default: this one)")
    parser.add_argument("--out", type=Path, default=None, help="the JSON to write")
    parser.add_argument("args", nargs="*", default=["--fast"],
                        help="arguments to scripts/check (default: --fast)")
    options = parser.parse_args()
    out = options.out or ROOT / "benchmarks" / "results" / f"check_fast_{options.label}.json"

    samples: list[float] = []
    done = threading.Event()

    def sample_load() -> None:  # the load average every 10 s while the check runs
        while not done.wait(10):
            samples.append(os.getloadavg()[0])

    sampler = threading.Thread(target=sample_load, daemon=True)
    load_at_start = os.getloadavg()[0]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    sampler.start()
    result = subprocess.run([str(options.checkout / "scripts" / "check"), *options.args],
                            cwd=options.checkout, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    done.set()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    log = out.with_suffix(".log")
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text(result.stdout + result.stderr)
    report = {
        "label": options.label,
        "command": ["scripts/check", *options.args],
        "checkout": str(options.checkout),
        "exit_status": result.returncode,
        "wall_s": round(wall, 1),
        "cpu_user_s": round(after.ru_utime - before.ru_utime, 1),
        "cpu_sys_s": round(after.ru_stime - before.ru_stime, 1),
        "load_average_1m_at_start": round(load_at_start, 2),
        "load_average_1m_mean_while_running": round(sum(samples) / len(samples), 2)
        if samples else None,
        "pytest_outcomes": counts(result.stdout),
        "log": str(log),
        "machine": machine(),
    }
    save(report, out)


if __name__ == "__main__":
    main()
