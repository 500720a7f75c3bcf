"""Does one unified model serve every canvas as well as one model per canvas?

For MovieLens ml-latest-small (bundled) and ml-100k (../shared/data), on a global time split
(the last 20% of interactions by time held out), per canvas (related, category, search,
notifications): Recall@10, Recall@20 and NDCG@10 with full ranking over every item the
canvas allows, for

- ``unified``: one network trained on all four canvases' examples at once;
- ``single_task``: the same architecture trained on that canvas's examples only;
- ``popularity``; ``recent_popularity`` (the most popular items of the 7 days before the
  cut-off) and ``ease`` (EASE, Steck 2019) on related, category and notifications;
  ``fuzzy`` (rapidfuzz title matching; search).

Networks are averaged over ``--seeds``; the unified model is compared with every other
model per canvas by a paired bootstrap interval over test requests (``recsys.compare``):
win, tie (the interval holds 0) or loss.

Also the unified model's parameters and training time against the sum of the four
single-task models'. See ``reelgraph.recsys`` for how examples are made (no future leakage)
and ``reelgraph.recsys.queries`` for the search queries' noise model.

    python benchmarks/recsys_quality.py                 # ~15 minutes on 2 busy cores
    python benchmarks/recsys_quality.py --seeds 1 --datasets ml-100k
    # side by side, one process per dataset, twins for the first seed only, then joined:
    python benchmarks/recsys_quality.py --datasets ml-100k --twin-seeds 1 --output a.json
    python benchmarks/recsys_join.py a.json b.json

Goal (issue 17): the unified model wins or ties against its single-task twin, EASE and
recent popularity on every personalized canvas, and fuzzy matching on search (with
Recall@10 >= 0.9).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import torch

from machine import versions as package_versions
from reelgraph.recsys import (
    ExperimentConfig,
    ExperimentResult,
    load_movielens,
    prepare_experiment,
    run_experiment,
)
from reelgraph.recsys.canvases import CANVAS_NAMES
from reelgraph.recsys.compare import overall, paired_bootstrap
from reelgraph.recsys.items import HALF_LIVES_DAYS
from reelgraph.recsys.metrics import METRICS

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "recsys_quality.json"
DATASETS = {
    "ml-latest-small": HERE.parent / "examples" / "data" / "ml-latest-small",
    "ml-100k": HERE.parent.parent / "shared" / "data" / "movielens" / "ml-100k",
}
MODELS = ("unified", "single_task", "popularity", "recent_popularity", "ease", "fuzzy")
COMPARED = "ndcg@10"


def comparisons(runs: list[ExperimentResult]) -> dict[str, dict[str, Any]]:
    """Per canvas: the unified model against every other model, by NDCG@10 per test
    request (each network's per-request value averaged over the seeds first), as a paired
    bootstrap interval of the difference with its verdict, and one verdict for the canvas
    (a loss to any is a loss, a win needs every one)."""
    def mean_over_seeds(canvas: str, model: str) -> np.ndarray:
        return np.mean([r.per_request[canvas][model][COMPARED] for r in runs
                        if model in r.per_request[canvas]], axis=0)

    found: dict[str, dict[str, Any]] = {}
    for canvas, by_model in runs[0].per_request.items():
        unified = mean_over_seeds(canvas, "unified")
        versus = {model: paired_bootstrap(unified, mean_over_seeds(canvas, model)).to_dict()
                  for model in MODELS[1:] if model in by_model}
        found[canvas] = {"metric": COMPARED, "versus": versus,
                         "verdict": overall(str(v["verdict"]) for v in versus.values())}
    return found


def averaged(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Metrics and costs as the mean over runs (model seeds), with each metric's std."""
    metrics: dict[str, Any] = {}
    spread: dict[str, Any] = {}
    for canvas, by_model in runs[0]["metrics"].items():
        metrics[canvas], spread[canvas] = {}, {}
        for model, values in by_model.items():
            per_run = {m: [r["metrics"][canvas][model][m] for r in runs
                           if model in r["metrics"][canvas]] for m in values}
            metrics[canvas][model] = {m: float(np.mean(v)) for m, v in per_run.items()}
            spread[canvas][model] = {m: float(np.std(v)) for m, v in per_run.items()
                                     if m in METRICS}

    def mean_of(key: str, field: str) -> float:
        """The mean over the runs that trained ``key`` (twins may skip seeds)."""
        sums = [sum(v[field] for k, v in r["models"].items() if k.split(":")[0] == key)
                for r in runs if any(k.split(":")[0] == key for k in r["models"])]
        return float(np.mean(sums)) if sums else 0.0

    cost = {"unified_parameters": runs[0]["models"]["unified"]["parameters"],
            "unified_train_s": round(mean_of("unified", "train_seconds"), 2),
            "single_task_parameters": sum(v["parameters"] for k, v in runs[0]["models"].items()
                                          if k.startswith("single_task:")),
            "single_task_train_s": round(mean_of("single_task", "train_seconds"), 2)}
    return {"metrics": metrics, "metrics_std": spread, "cost": cost,
            "runs_models": [r["models"] for r in runs]}


def table(name: str, result: dict[str, Any]) -> None:
    print(f"\n{name}: {result['split']}")
    print(f"{'canvas':<15}{'requests':>9}  {'model':<13}"
          + "".join(f"{m + ' ±std':>16}" for m in METRICS))
    for canvas in CANVAS_NAMES:
        by_model = result["metrics"][canvas]
        requests = int(by_model["unified"]["requests"])
        for i, model in enumerate(m for m in MODELS if m in by_model):
            label = canvas if i == 0 else ""
            count = f"{requests:>9}" if i == 0 else " " * 9
            spread = result["metrics_std"][canvas][model]
            print(f"{label:<15}{count}  {model:<13}"
                  + "".join(f"{by_model[model][m]:>9.4f}±{spread[m]:<6.4f}" for m in METRICS))
    cost = result["cost"]
    print(f"unified: {cost['unified_parameters']:,} parameters, "
          f"{cost['unified_train_s']:.1f} s training; the four single-task models: "
          f"{cost['single_task_parameters']:,} parameters, "
          f"{cost['single_task_train_s']:.1f} s")


def versions() -> dict[str, str]:
    return package_versions("torch", "numpy", "rapidfuzz")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=DATASETS)
    parser.add_argument("--epochs", type=int, default=ExperimentConfig().train.epochs)
    parser.add_argument("--dim", type=int, default=ExperimentConfig().dim)
    parser.add_argument("--seeds", type=int, default=3,
                        help="model seeds to average over (same test requests)")
    parser.add_argument("--threads", type=int, default=2, help="torch intra-op threads")
    parser.add_argument("--validation", type=float, default=ExperimentConfig().validation,
                        help="the training period's share that picks the epoch count; 0: "
                             "train --epochs straight away (half the time)")
    parser.add_argument("--single-task", action=argparse.BooleanOptionalAction, default=True,
                        help="also train the four single-task twins per seed")
    parser.add_argument("--output", type=Path, default=RESULTS,
                        help="where the JSON goes (e.g. one file per dataset run side by "
                             "side, then joined by recsys_join.py)")
    parser.add_argument("--twin-seeds", type=int, default=None,
                        help="train the twins for the first N seeds only (default: all)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    base = ExperimentConfig()
    config = replace(base, dim=args.dim, validation=args.validation,
                     train=replace(base.train, epochs=args.epochs))

    twin_seeds = args.seeds if args.twin_seeds is None else args.twin_seeds
    results: dict[str, Any] = {}
    started = time.perf_counter()
    for name in args.datasets:
        began = time.perf_counter()
        dataset = load_movielens(DATASETS[name])
        prepared = prepare_experiment(dataset, config)  # the same split for every seed
        experiments = [run_experiment(dataset, replace(config, train=replace(config.train,
                                                                              seed=seed)),
                                      single_task=args.single_task and seed < twin_seeds,
                                      prepared=prepared)
                       for seed in range(args.seeds)]
        runs = [e.to_dict() for e in experiments]
        result = {**runs[0], **averaged(runs), "seeds": args.seeds,
                  "twin_seeds": min(twin_seeds, args.seeds) if args.single_task else 0}
        result["comparisons"] = comparisons(experiments)
        result["wall_s"] = round(time.perf_counter() - began, 1)
        results[name] = result
        table(name, result)
    total = time.perf_counter() - started
    print(f"\nunified minus each model, {COMPARED} per test request: mean [95% paired "
          "bootstrap interval] verdict")
    for name, result in results.items():
        for canvas, compared in result["comparisons"].items():
            shown = "  ".join(f"{model} {v['mean']:+.4f} [{v['low']:+.4f}, {v['high']:+.4f}] "
                              f"{v['verdict']}" for model, v in compared["versus"].items())
            print(f"  {name:<16}{canvas:<14}{compared['verdict'].upper():<5} {shown}")
    print(f"total {total:.0f} s")

    output: Path = args.output.resolve()
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps({
        "benchmark": "recsys_quality",
        "date": datetime.now(tz=UTC).isoformat(timespec="seconds"),
        "question": "per canvas, does one unified multi-task model match one model per "
                    "canvas, and beat popularity, recent popularity, EASE and fuzzy title "
                    "matching?",
        "method": "metrics are means over --seeds model seeds (metrics_std: their "
                  "standard deviation; the test requests stay the same); global time "
                  "split (last 20% of interactions held out); test requests "
                  "use only what happened before their own time; full ranking over every "
                  "item the canvas allows (seen items excluded for category and "
                  "notifications, the source for related); Recall@K = hits / min(K, "
                  "relevant); NDCG@10 binary; single-task models share the unified "
                  "architecture and training settings; each network's epoch count (at "
                  "most config.epochs) is the best on a validation split of the training "
                  "period (its last config.validation share), then it is retrained on the "
                  "whole training period (models.*.validation_ndcg@10: per epoch, 0: "
                  "the calibrated, untrained network); with gated_residual the learned "
                  "part stays on only for the canvases whose validation NDCG@10 it "
                  "raised over epoch 0 (models.*.residual_canvases); "
                  "recent_popularity: the most popular items of the 7 days before the "
                  "cut-off; comparisons: unified minus each model in NDCG@10 per test "
                  "request (networks averaged over the seeds first), mean and 95% paired "
                  "bootstrap interval over test requests (2000 resamples); win: the "
                  "interval is above 0, loss: below 0, tie: it holds 0; a canvas's verdict "
                  "is a loss if any comparison is, a win if every one is",
        "config": {"epochs": config.train.epochs, "validation": config.validation,
                   "dim": config.dim, "text_dim": config.text_dim, "lr": config.train.lr,
                   "lr_decay": config.train.lr_decay,
                   "batch_size": config.train.batch_size,
                   "negatives": config.train.negatives, "history": config.history,
                   "buckets": config.buckets,
                   "popularity_half_lives_days": list(HALF_LIVES_DAYS), "max_train_per_canvas":
                   config.tasks.max_train, "max_test_requests": config.tasks.max_eval,
                   "ease_l2": config.ease_l2, "ease_max_items": config.ease_max_items,
                   "seeds": args.seeds, "torch_threads": args.threads,
                   "single_task": args.single_task, "twin_seeds": twin_seeds,
                   "prior_rank": config.prior_rank, "lexical_dim": config.lexical_dim,
                   "residual": config.residual,
                   "fresh_popularity": config.fresh_popularity,
                   "calibrate": config.train.calibrate,
                   "calibration_examples": config.train.calibration_examples,
                   "canvas_candidates": config.train.canvas_candidates,
                   "gated_residual": config.gated_residual},
        "load_average": os.getloadavg(),
        "datasets": results,
        "total_s": round(total, 1),
        "machine": {"platform": platform.platform(), "processor": platform.processor(),
                    "cpus": os.cpu_count()},
        "versions": versions(),
    }, indent=2) + "\n")
    print(f"saved {output}")


if __name__ == "__main__":
    main()
