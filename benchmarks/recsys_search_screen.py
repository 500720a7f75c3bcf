"""Which text features make search beat fuzzy matching? A cheap screen, no training.

Each variant of the text encoder is prepared on the same time split, its fixed blocks'
per-canvas weights are calibrated on search's training examples (``TrainConfig.calibrate``,
epoch 0: the towers stay at zero) and its search NDCG@10 / Recall@10 are compared with
rapidfuzz's on the same test queries (paired bootstrap interval). One seed: a lead for
``recsys_quality.py`` to confirm, not a result.

    python benchmarks/recsys_search_screen.py --datasets ml-100k
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
from reelgraph.recsys import ExperimentConfig, load_movielens
from reelgraph.recsys.compare import paired_bootstrap
from reelgraph.recsys.experiment import fit, fit_baselines, per_request_on, prepare

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "recsys_search_screen.json"
CANVAS = ("search",)


def variants(base: ExperimentConfig) -> dict[str, ExperimentConfig]:
    return {"trigrams": replace(base, gram_sizes=(3,)),
            "bigrams + trigrams (the default)": replace(base, gram_sizes=(2, 3)),
            "trigrams + 4-grams": replace(base, gram_sizes=(3, 4)),
            "bigrams + trigrams + word prefixes": replace(base, gram_sizes=(2, 3),
                                                          word_prefixes=True)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", nargs="+", default=["ml-100k"], choices=DATASETS)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    base = ExperimentConfig(validation=0.0, prior_rank=0)  # no EASE: search does not use it
    base = replace(base, train=replace(base.train, epochs=0))
    found: dict[str, Any] = {}
    for name in args.datasets:
        dataset = load_movielens(DATASETS[name])
        fuzzy: dict[str, Any] | None = None
        rows: dict[str, Any] = {}
        for label, config in variants(base).items():
            started = time.perf_counter()
            prepared = prepare(dataset, config)
            fitted = fit(prepared, config, CANVAS)
            values = per_request_on(prepared, fitted.recommender.scorer, CANVAS)["search"]
            if fuzzy is None:
                baselines, _ = fit_baselines(prepared, config)
                fuzzy = per_request_on(prepared, baselines["fuzzy"], CANVAS)["search"]
                rows["fuzzy"] = {m: float(v.mean()) for m, v in fuzzy.items()}
            versus = paired_bootstrap(values["ndcg@10"], fuzzy["ndcg@10"])
            rows[label] = {**{m: float(v.mean()) for m, v in values.items()},
                           "versus_fuzzy": versus.to_dict(),
                           "seconds": round(time.perf_counter() - started, 1)}
            print(f"{name} {label:<40} NDCG@10 {values['ndcg@10'].mean():.4f} Recall@10 "
                  f"{values['recall@10'].mean():.4f} vs fuzzy {versus.mean:+.4f} "
                  f"[{versus.low:+.4f}, {versus.high:+.4f}]", flush=True)
        found[name] = rows
    RESULTS.write_text(json.dumps({
        "benchmark": "recsys_search_screen", "date": datetime.now(tz=UTC).isoformat(
            timespec="seconds"), "seeds": 1, "epochs": 0, "load_average": os.getloadavg(),
        "datasets": found}, indent=2) + "\n")
    print(f"saved {RESULTS.relative_to(HERE.parent)}")


if __name__ == "__main__":
    main()
