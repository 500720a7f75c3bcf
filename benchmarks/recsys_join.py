"""Join ``recsys_quality.py`` runs made side by side (one dataset each) into one JSON.

    python benchmarks/recsys_join.py a.json b.json [--output results/recsys_quality.json]

Each run's datasets keep their own figures (a dataset's later runs, e.g. a shorter one with
the single-task twins, go under its ``more_runs``); the top level keeps the first run's description
and lists every run's load average, configuration and total time (the runs may differ,
e.g. one with single-task twins and one without: each dataset records its ``twin_seeds``).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from recsys_quality import RESULTS


def join(runs: list[dict[str, Any]]) -> dict[str, Any]:
    joined = {**runs[0], "datasets": {}, "runs": []}
    for run in runs:
        for name, result in run["datasets"].items():
            found = {**result, "config": run["config"], "load_average": run["load_average"]}
            if name in joined["datasets"]:  # a second run of a dataset, e.g. the twins'
                joined["datasets"][name].setdefault("more_runs", []).append(found)
            else:
                joined["datasets"][name] = found
        joined["runs"].append({key: run[key] for key in ("date", "config", "load_average",
                                                         "total_s")})
    return joined


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    runs = [json.loads(path.read_text()) for path in args.runs]
    args.output.write_text(json.dumps(join(runs), indent=2) + "\n")
    print(f"saved {args.output}")


if __name__ == "__main__":
    main()
