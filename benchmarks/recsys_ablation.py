"""Which change makes the unified model better? One variant against another, unified only.

Short runs to choose what the full ``recsys_quality.py`` then measures: each variant of
``ExperimentConfig`` trains the unified model (no single-task twins) on the same time split
and test requests, and every variant is compared with the first by NDCG@10 per test
request (paired bootstrap interval, ``recsys.compare``), next to EASE and recent popularity.

    python benchmarks/recsys_ablation.py --datasets ml-100k --epochs 1
"""

from __future__ import annotations

import argparse
import json
import os
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import torch

from recsys_quality import DATASETS
from reelgraph.recsys import ExperimentConfig, load_movielens, run_experiment
from reelgraph.recsys.compare import paired_bootstrap

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "recsys_ablation.json"
METRIC = "ndcg@10"


def variants(base: ExperimentConfig) -> dict[str, ExperimentConfig]:
    """Issue 17's search for what wins (README: the figures of each)."""
    before = replace(base, fresh_popularity=False, residual=False, gram_sizes=(3,),
                     train=replace(base.train, calibrate=False))
    return {
        "before (lexical, EASE prior, trained)": before,
        "now, 0 epochs (calibrated fixed blocks)": replace(
            base, train=replace(base.train, epochs=0)),
        "now, trained": base,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", nargs="+", default=["ml-100k"], choices=DATASETS)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    base = ExperimentConfig(validation=0.0)
    base = replace(base, train=replace(base.train, epochs=args.epochs))
    found: dict[str, Any] = {}
    for name in args.datasets:
        dataset = load_movielens(DATASETS[name])
        runs = {label: run_experiment(dataset, config, single_task=False)
                for label, config in variants(base).items()}
        first = next(iter(runs.values()))
        table: dict[str, Any] = {}
        print(f"\n{name}: {METRIC}, and the difference from {next(iter(runs))!r} "
              "[95% paired bootstrap interval]")
        for canvas, by_model in first.per_request.items():
            row: dict[str, Any] = {m: by_model[m][METRIC].mean() for m in by_model
                                   if m != "unified"}
            for label, run in runs.items():
                values = run.per_request[canvas]["unified"][METRIC]
                versus = paired_bootstrap(values, by_model["unified"][METRIC])
                row[label] = {"value": float(values.mean()), "versus_first": versus.to_dict()}
                print(f"  {canvas:<14}{label:<26}{values.mean():.4f}  {versus.mean:+.4f} "
                      f"[{versus.low:+.4f}, {versus.high:+.4f}] {versus.verdict}")
            print("  " + " " * 14 + "  ".join(f"{m} {row[m]:.4f}" for m in row
                                               if isinstance(row[m], float)))
            table[canvas] = {k: float(v) if not isinstance(v, dict) else v
                             for k, v in row.items()}
        found[name] = {"metrics": table,
                       "train_seconds": {label: run.models["unified"]["train_seconds"]
                                         for label, run in runs.items()},
                       "parameters": {label: run.models["unified"]["parameters"]
                                      for label, run in runs.items()}}
    RESULTS.write_text(json.dumps({
        "benchmark": "recsys_ablation", "date": datetime.now(tz=UTC).isoformat(
            timespec="seconds"), "epochs": args.epochs, "validation": 0.0, "seeds": 1,
        "load_average": os.getloadavg(), "datasets": found}, indent=2) + "\n")
    print(f"saved {RESULTS.relative_to(HERE.parent)}")


if __name__ == "__main__":
    started = time.perf_counter()
    main()
    print(f"total {time.perf_counter() - started:.0f} s")
