"""Match-cut quality with real uncertainty: grouped cross-validation by title over every
labelled pair, beside the fixed split of ``matchcut_quality.py`` (whose 3 test titles are
too few for a title bootstrap).

A title here is a source film: the clips of one film (Big Buck Bunny's three, Tears of
Steel's two) share a group, so no film is ever on both sides of a fold. Every labelled pair
is scored by a model trained only on pairs that share no film with it (for a pair within
film F: trained on the pairs touching no clip of F; for a pair across films F and G: on the
pairs touching neither), i.e. leave-one-title-out with cross-title pairs held out from both
titles' folds. Inside each fold everything is chosen on that fold's training pairs alone:

- the model (``matchcut_quality.MODELS``: logistic regressions and gradient boosting), by the
  pooled AP of an inner leave-one-film-out over the training films;
- the best heuristic (mask IoU, framing, motion, silhouette, and the cut-end heuristics),
  by its AP on the training pairs.

Reported per kind: pooled AP over all labelled pairs of the out-of-fold scores (learned, the
per-fold best heuristic, each fixed heuristic, random), per-film precision@10, and 95%
intervals from a bootstrap over films (films drawn with replacement, a pair counted as often
as the rarer of its two films was drawn), paired, for the learned scorer against the best
heuristic: AP ratio (the paper's x1.5 frame / x1.33 motion), AP difference, the share of the
heuristic's remaining error (1 - AP) the learned scorer removes, the ratio of odds of AP,
and the ratio of AP lifts over random, each beside the paper's value in the same form.

    .venv/bin/python benchmarks/matchcut_crossval.py [--home DIR]

Writes ``benchmarks/results/matchcut_crossval.json``.
"""

from __future__ import annotations

import argparse
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from machine import machine, versions
from matchcut_quality import (
    BOOTSTRAP,
    KINDS,
    MODELS,
    SEEDS,
    ap,
    interval,
    load,
    margins,
    paper_margins,
    per_title_precision,
)
from reelgraph.matchcut.scorers import PAIR_FEATURES, RandomScorer

RESULTS = Path(__file__).resolve().parent / "results" / "matchcut_crossval.json"
HEURISTICS = ("mask-iou", "framing", "motion", "silhouette", "cut-mask-iou", "cut-motion")


def film(title: str) -> str:
    """The source film of a clip: clips cut from one film are one group."""
    for prefix in ("big_buck_bunny", "tears"):
        if title.startswith(prefix):
            return prefix
    return title.rsplit(".", 1)[0]


def pair_films(rows: list[dict[str, Any]]) -> list[frozenset[str]]:
    return [frozenset((film(r["title_a"]), film(r["title_b"]))) for r in rows]


def _fit_score(name: str, x: np.ndarray, y: np.ndarray, train: np.ndarray,
               test: np.ndarray) -> np.ndarray:
    return np.asarray(MODELS[name]().fit(x[train], y[train]).predict_proba(x[test])[:, 1])


def choose_model(x: np.ndarray, y: np.ndarray, films: list[frozenset[str]],
                 train: np.ndarray) -> tuple[str, dict[str, float]]:
    """The model with the best pooled AP of a leave-one-film-out inside ``train``."""
    inner = sorted({f for i in np.flatnonzero(train) for f in films[i]})
    inner_ap: dict[str, float] = {}
    for name in MODELS:
        scores = np.zeros(len(y))
        seen = np.zeros(len(y))
        for held in inner:
            touches = np.array([held in f for f in films])
            fit_on, score_on = train & ~touches, train & touches
            if y[fit_on].sum() < 2 or not score_on.any():
                continue
            scores[score_on] += _fit_score(name, x, y, fit_on, score_on)
            seen[score_on] += 1
        scored = seen > 0
        inner_ap[name] = ap(scores[scored] / seen[scored], y[scored]) if scored.any() else -1.0
    chosen = max(MODELS, key=lambda n: (np.nan_to_num(inner_ap[n], nan=-1.0),
                                        -list(MODELS).index(n)))
    return chosen, inner_ap


def out_of_fold(x: np.ndarray, y: np.ndarray, films: list[frozenset[str]]
                ) -> tuple[np.ndarray, np.ndarray, list[dict[str, Any]]]:
    """Each pair's learned and best-heuristic score from a fold that never saw its films."""
    column = {name: PAIR_FEATURES.index(name) for name in HEURISTICS}
    learned, heuristic = np.zeros(len(y)), np.zeros(len(y))
    folds = []
    for held in sorted(set(films), key=sorted):
        test = np.array([f == held for f in films])
        train = np.array([not (f & held) for f in films])
        best = max(HEURISTICS, key=lambda n: (np.nan_to_num(
            ap(x[train][:, column[n]], y[train]), nan=-1.0), -HEURISTICS.index(n)))
        heuristic[test] = x[test][:, column[best]]
        if y[train].sum() >= 2:
            chosen, inner_ap = choose_model(x, y, films, train)
            learned[test] = _fit_score(chosen, x, y, train, test)
        else:  # too few positives to learn from: the fold's heuristic ranks (said so)
            chosen, inner_ap = f"heuristic {best} (fewer than 2 training positives)", {}
            learned[test] = heuristic[test]
        folds.append({"held_out": sorted(held), "pairs": int(test.sum()),
                      "positives": int(y[test].sum()), "train_pairs": int(train.sum()),
                      "train_positives": int(y[train].sum()), "model": chosen,
                      "inner_ap": inner_ap, "heuristic": best})
    return learned, heuristic, folds


def film_bootstrap(films: list[frozenset[str]], rng: np.random.Generator
                   ) -> list[np.ndarray]:
    """Pair index resamples: films drawn with replacement, a pair repeated as often as the
    rarer of its films was drawn."""
    names = sorted({f for pair in films for f in pair})
    draws = []
    for _ in range(BOOTSTRAP):
        drawn = rng.choice(names, len(names), replace=True)
        counts = {n: int((drawn == n).sum()) for n in names}
        draws.append(np.array([i for i, pair in enumerate(films)
                               for _ in range(min(counts[f] for f in pair))], dtype=np.int64))
    return [d for d in draws if len(d)]


def evaluate(kind: str, doc: dict[str, Any], vectors: dict[str, np.ndarray],
             records: dict[str, Any]) -> dict[str, Any]:
    rows = doc["pairs"]
    key = {r["pair"]: "|".join(sorted((r["shot_a"], r["shot_b"]))) for r in rows}
    x = np.stack([vectors[key[r["pair"]]] for r in rows])
    y = np.array([r[f"{kind}_match"] for r in rows])
    films = pair_films(rows)
    learned, heuristic, folds = out_of_fold(x, y, films)
    randoms = [np.array([RandomScorer(kind, seed).score(records[r["shot_a"]],
                                                        records[r["shot_b"]])
                         for r in rows]) for seed in range(SEEDS)]
    fixed = {name: x[:, PAIR_FEATURES.index(name)] for name in HEURISTICS}
    film_rows = [{"title_a": film(r["title_a"]), "title_b": film(r["title_b"])} for r in rows]
    names = sorted({f for pair in films for f in pair})
    rng = np.random.default_rng(0)
    draws = [d for d in film_bootstrap(films, rng) if 0 < y[d].sum() < len(d)]
    random_ap = float(np.mean([ap(r, y) for r in randoms]))
    point = margins(ap(learned, y), ap(heuristic, y), random_ap)
    resampled: dict[str, list[float]] = {name: [] for name in point}
    for d in draws:
        values = margins(ap(learned[d], y[d]), ap(heuristic[d], y[d]),
                         float(np.mean([ap(r[d], y[d]) for r in randoms[:5]])))
        for name, value in values.items():
            if isinstance(value, float) and np.isfinite(value):
                resampled[name].append(value)
    comparison = {name: {"value": value, "film_ci": interval(resampled[name])
                         if resampled[name] else None}
                  for name, value in point.items()}
    comparison["share_of_resamples_learned_better"] = float(np.mean(
        [ap(learned[d], y[d]) > ap(heuristic[d], y[d]) for d in draws]))

    def p10(s: np.ndarray) -> float:
        return per_title_precision(s, y, film_rows, names)

    result = {
        "pairs": len(y), "positives": int(y.sum()), "films": names,
        "pooled_ap": {"learned": ap(learned, y), "best_heuristic_per_fold": ap(heuristic, y),
                      "random_mean_over_seeds": random_ap,
                      **{f"fixed {n}": ap(s, y) for n, s in fixed.items()}},
        "precision_at_10_per_film": {"learned": p10(learned), "best_heuristic_per_fold":
                                     p10(heuristic), "random": p10(randoms[0])},
        "learned_vs_best_heuristic": comparison, "paper": paper_margins(kind),
        "bootstrap_resamples": len(draws),
        "folds": folds,
    }
    print(f"== {kind}: {len(y)} pairs, {int(y.sum())} positives, {len(folds)} folds over "
          f"{len(names)} films")
    print("pooled AP " + ", ".join(f"{n} {v:.3f}" for n, v in result["pooled_ap"].items()))
    for name, c in comparison.items():
        if isinstance(c, dict) and c["film_ci"] is not None:
            print(f"  {name}: {c['value']:.3f} (films 95% {c['film_ci'][0]:.3f} to "
                  f"{c['film_ci'][1]:.3f})")
    print(f"  learned better in {comparison['share_of_resamples_learned_better']:.0%} "
          "of film resamples; models chosen: "
          + ", ".join(sorted({f["model"] for f in folds})))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--home", type=Path, default=Path("/tmp/reelgraph-matchcut-quality"))
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    docs, vectors, records = load(args.home)
    kinds = {kind: evaluate(kind, docs[kind], vectors, records) for kind in KINDS}
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps({
        "when": datetime.now(UTC).isoformat(timespec="seconds"), "machine": machine(),
        "load_average_1m_before": round(load_before, 2),
        "versions": versions("scikit-learn"), "pair_features": list(PAIR_FEATURES),
        "kinds": kinds, "bootstrap": BOOTSTRAP, "random_seeds": SEEDS,
    }, indent=1) + "\n")


if __name__ == "__main__":
    main()
