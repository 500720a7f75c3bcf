"""How good are the match-cut rankings on labelled pairs? Frame and motion matches, per method.

Runs ``MatchCutter.find`` over the clips in ``../shared/data/video`` (Steamboat Willie left
out; memoized in ``--home``, so a second run computes nothing), reads the labels in
``tests/matchcut/fixtures/{frame,motion}_labels.json`` (the same pairs; three passes each,
majority vote; split by source film into train / validation / test) and, per kind, scores
every labelled pair with:

- ``random``: a seeded random score (20 seeds, the mean reported);
- ``mask-iou`` (the silhouette heuristic: subject-mask IoU; face boxes are unavailable on
  this stack, so the paper's face-IoU half is absent) and ``motion`` (motion cosine);
- ``framing``: the media framing embedder's cosine;
- ``cut-mask-iou`` / ``cut-motion``: mask IoU and motion cosine of A's last half second
  against B's first (what the cut joins);
- ``learned``: logistic regression on the pair features, fitted on the train split, its C
  chosen by validation AP only, scored on test (fitted on train + validation once chosen).

On the test split: pooled AP (scikit-learn's ``average_precision_score``) and the mean over
test titles of precision@10 (each title's pairs ranked by score), each with a 95% bootstrap
interval over test titles (titles resampled with replacement; with few test titles this
interval is wide and honest about it) and over pairs; the learned scorer against the best
heuristic as a paired pair-bootstrap of the AP difference, and the paper's margin in forms
that stay reachable when the heuristic is already good (``margins``). A difference whose
interval contains 0 is a tie. With 3 test titles the title bootstrap is too coarse to read:
``matchcut_crossval.py`` cross-validates by film over every labelled pair. Last, every
labelled pair goes through the production retrain flow, which registers
``matchcut/pair-scorer`` with lineage to the labels dataset (``registered`` in the JSON).

    .venv/bin/python benchmarks/matchcut_quality.py [--home DIR]

Writes ``benchmarks/results/matchcut_quality.json``.
"""

from __future__ import annotations

import argparse
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import average_precision_score

from machine import machine, versions
from reelgraph.core import Settings
from reelgraph.features import FeatureStore
from reelgraph.flows import Workspace
from reelgraph.matchcut import CandidateConfig, MatchCutter, ShotRecord, register_titles
from reelgraph.matchcut.candidates import candidates, group_near_duplicates, normalised
from reelgraph.matchcut.features import ShotFeatures, matchcut_features
from reelgraph.matchcut.finder import SEARCH_FEATURES
from reelgraph.matchcut.learning import LABELS, MODEL, LabelSet, fit, retrain
from reelgraph.matchcut.scorers import DEFAULT_SCORER, PAIR_FEATURES, RandomScorer

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
VIDEO_DIR = ROOT.parent / "shared" / "data" / "video"
FIXTURES = ROOT / "tests" / "matchcut" / "fixtures"
KINDS = ("frame", "motion")
RESULTS = HERE / "results" / "matchcut_quality.json"
BOOTSTRAP = 2000
SEEDS = 20
HEURISTICS = ("mask-iou", "framing", "motion", "silhouette", "cut-mask-iou", "cut-motion")
RECALL_K = (10, 20, 50)


def _logistic(c: float) -> Any:
    return lambda: _Fitted(lambda x, y: fit(x, y, c=c))


def _boosted() -> Any:
    from sklearn.ensemble import GradientBoostingClassifier

    return GradientBoostingClassifier(n_estimators=100, max_depth=2, learning_rate=0.05,
                                      subsample=0.8, random_state=0)


class _Fitted:
    """A logistic regression through ``learning.fit`` (the production scorer's model)."""

    def __init__(self, train: Any) -> None:
        self._train = train
        self._model: Any = None

    def fit(self, x: np.ndarray, y: np.ndarray) -> _Fitted:
        self._model = self._train(x, y)
        return self

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(self._model.predict_proba(x))


MODELS: dict[str, Any] = {**{f"logistic C={c}": _logistic(c) for c in (0.01, 0.1, 1.0, 10.0)},
                          "gradient boosting": _boosted}
PAPER_MARGIN = {"frame": 1.5, "motion": 1.33}
# Chen et al. (WACV 2023): AP of the best learned model, the best heuristic and random.
PAPER_AP = {"frame": (0.373, 0.248, 0.119), "motion": (0.217, 0.163, 0.122)}


def margins(learned: float, heuristic: float, random: float) -> dict[str, float]:
    """The learned scorer against the best heuristic in forms that stay reachable when the
    heuristic is already good: an AP ratio of x1.5 over a heuristic at 0.75 would need
    AP 1.12, but removing a share of its remaining error (1 - AP) or multiplying the odds
    of AP can be reached at any heuristic AP."""
    def odds(value: float) -> float:
        return value / (1.0 - value) if value < 1.0 else float("inf")

    return {
        "ap_learned": learned, "ap_heuristic": heuristic, "ap_random": random,
        "ap_ratio": learned / heuristic if heuristic > 0 else float("nan"),
        "ap_difference": learned - heuristic,
        "error_share_removed": (learned - heuristic) / (1.0 - heuristic)
        if heuristic < 1.0 else float("nan"),
        "ap_odds_ratio": odds(learned) / odds(heuristic) if heuristic > 0 else float("nan"),
        "lift_over_random_ratio": (learned - random) / (heuristic - random)
        if heuristic > random else float("nan"),
    }


def paper_margins(kind: str) -> dict[str, float]:
    """The paper's margin in each of ``margins``' forms."""
    return {k: v for k, v in margins(*PAPER_AP[kind]).items() if not k.startswith("ap_")
            or k in ("ap_ratio", "ap_difference", "ap_odds_ratio")}


def precision_at(scores: np.ndarray, labels: np.ndarray, k: int = 10) -> float:
    top = np.argsort(-scores, kind="stable")[:k]
    return float(labels[top].mean()) if len(top) else float("nan")


def per_title_precision(scores: np.ndarray, labels: np.ndarray, rows: list[dict[str, Any]],
                        titles: list[str]) -> float:
    values = []
    for title in titles:
        mine = np.array([title in (r["title_a"], r["title_b"]) for r in rows])
        if mine.any():
            values.append(precision_at(scores[mine], labels[mine]))
    return float(np.mean(values)) if values else float("nan")


def ap(scores: np.ndarray, labels: np.ndarray) -> float:
    return float(average_precision_score(labels, scores)) if labels.any() else float("nan")


def title_bootstrap(metric: Any, rows: list[dict[str, Any]], titles: list[str],
                    rng: np.random.Generator) -> tuple[float, float]:
    values = []
    for _ in range(BOOTSTRAP):
        drawn = rng.choice(titles, len(titles), replace=True)
        counts = {t: int((drawn == t).sum()) for t in titles}
        index = [i for i, r in enumerate(rows)
                 for _ in range(min(counts[r["title_a"]], counts[r["title_b"]]))]
        if index:
            value = metric(np.array(index))
            if not np.isnan(value):
                values.append(value)
    return interval(values)


def interval(values: list[float]) -> tuple[float, float]:
    """The central 95% of the bootstrap values (NaN when no resample had a positive)."""
    if not values:
        return float("nan"), float("nan")
    return float(np.percentile(values, 2.5)), float(np.percentile(values, 97.5))


def pair_bootstrap(metric: Any, n: int, rng: np.random.Generator) -> tuple[float, float]:
    return interval([v for v in (metric(rng.integers(0, n, n)) for _ in range(BOOTSTRAP))
                     if not np.isnan(v)])


def candidate_recall(kind: str, rows: list[dict[str, Any]], y: np.ndarray,
                     records: dict[str, ShotRecord]) -> dict[str, Any]:
    """Share of the labelled positives of the exhaustively labelled splits (validation and
    test: every shot pair labelled) that the candidate stage keeps at each K. A pair counts
    as kept when its two shots' near-duplicate groups are a candidate pair of the kind."""
    shots = list(records.values())
    index = {s.key: i for i, s in enumerate(shots)}
    search = np.hstack([normalised(np.stack([s.features[f] for s in shots]))
                        for f in SEARCH_FEATURES[kind]])
    dedup = np.stack([s.features["framing"] for s in shots])
    positives = [r for r, label in zip(rows, y, strict=True)
                 if label and r["split"] in ("validation", "test")]
    result: dict[str, Any] = {"positives": len(positives)}
    for k in RECALL_K:
        config = CandidateConfig(k=k)
        group = group_near_duplicates(shots, dedup, config.duplicate_cosine)
        kept = {frozenset((i, j)) for i, j, _ in candidates(shots, search, dedup, config)}
        hits = sum(frozenset((group[index[r["shot_a"]]], group[index[r["shot_b"]]])) in kept
                   for r in positives)
        result[f"recall_at_{k}"] = hits / len(positives) if positives else float("nan")
    return result


def load(home: Path) -> tuple[dict[str, dict[str, Any]], dict[str, np.ndarray],
                              dict[str, ShotRecord]]:
    docs = {kind: json.loads((FIXTURES / f"{kind}_labels.json").read_text()) for kind in KINDS}
    doc = docs["frame"]
    settings = Settings.load(home=str(home), database_url="")
    files = sorted(p for p in VIDEO_DIR.iterdir() if "steamboat" not in p.name)
    with Workspace.open(settings) as ws:
        assets, failed = register_titles(ws, files)
        report = MatchCutter(ws).find(assets)
        if failed or report.failed:
            raise SystemExit(f"titles failed: {failed} {report.failed}")
        print(f"find: {report.features_computed} shot features and {report.pairs_computed} "
              "pairs computed (0 and 0 when memoized)")
        shots = {s.key: s for t in report.titles for s in t.shots}
        store = FeatureStore(ws, [matchcut_features()])
        try:
            features = ShotFeatures(store)
            records = {s.key: s for s in features.load(list(shots.values()))}
            pairs = [(records[r["shot_a"]], records[r["shot_b"]]) for r in doc["pairs"]]
            vectors = features.pairs(pairs)
        finally:
            store.close()
    return docs, vectors, records


def evaluate(kind: str, doc: dict[str, Any], vectors: dict[str, np.ndarray],
             records: dict[str, ShotRecord]) -> dict[str, Any]:
    """One kind's figures: models chosen on validation, every method scored on test."""
    rows = doc["pairs"]
    key = {r["pair"]: "|".join(sorted((r["shot_a"], r["shot_b"]))) for r in rows}
    x = np.stack([vectors[key[r["pair"]]] for r in rows])
    y = np.array([r[f"{kind}_match"] for r in rows])
    split = np.array([r["split"] for r in rows])
    column = {name: PAIR_FEATURES.index(name) for name in HEURISTICS}

    # Model selection on validation only (a kind without validation positives keeps the
    # first model in the list: nothing to choose with).
    train, valid, test = (split == s for s in ("train", "validation", "test"))
    held_out = "test"
    if not y[test].any():  # no positive among the test titles' pairs: AP is undefined there,
        # so validation becomes the held-out split (no selection: the first model, trained
        # on train only, and the first heuristic) and the report says so
        held_out, test, valid = "validation", valid, np.zeros_like(valid)
    choices = {name: ap(make().fit(x[train], y[train]).predict_proba(x[valid])[:, 1],
                        y[valid]) if valid.any() else float("nan")
               for name, make in MODELS.items()}
    chosen = max(MODELS, key=lambda n: (np.nan_to_num(choices[n], nan=-1.0),
                                        -list(MODELS).index(n)))
    model = MODELS[chosen]().fit(x[train | valid], y[train | valid])
    # The best heuristic is chosen on validation too (never on test).
    valid_ap = {name: ap(x[valid][:, i], y[valid]) for name, i in column.items()}
    # (without validation positives: the kind's default heuristic, the one that ranks)
    best = max(HEURISTICS, key=lambda n: (np.nan_to_num(valid_ap[n], nan=-1.0),
                                          n == DEFAULT_SCORER[kind], -HEURISTICS.index(n)))
    # Heuristics fit nothing: their AP over every labelled pair is a fair second view.
    all_pairs_ap = {name: ap(x[:, i], y) for name, i in column.items()}

    test_rows = [r for r, t in zip(rows, test, strict=True) if t]
    yt = y[test]
    titles = sorted({t for r in test_rows for t in (r["title_a"], r["title_b"])})
    scores: dict[str, np.ndarray] = {name: x[test][:, i] for name, i in column.items()}
    scores["learned"] = model.predict_proba(x[test])[:, 1]
    randoms = [np.array([RandomScorer(kind, seed).score(records[r["shot_a"]],
                                                        records[r["shot_b"]])
                         for r in test_rows]) for seed in range(SEEDS)]
    rng = np.random.default_rng(0)
    methods: dict[str, Any] = {}
    for name, s in {**scores, "random": randoms[0]}.items():
        def pooled_ap(index: np.ndarray, s: np.ndarray = s) -> float:
            return ap(s[index], yt[index])

        def title_p10(index: np.ndarray, s: np.ndarray = s) -> float:
            return per_title_precision(s[index], yt[index], [test_rows[i] for i in index],
                                       titles)

        methods[name] = {
            "ap": ap(s, yt), "ap_title_ci": title_bootstrap(pooled_ap, test_rows, titles, rng),
            "ap_pair_ci": pair_bootstrap(pooled_ap, len(yt), rng),
            "precision_at_10_per_title": per_title_precision(s, yt, test_rows, titles),
            "precision_at_10_title_ci": title_bootstrap(title_p10, test_rows, titles, rng),
        }
    methods["random"]["ap_mean_over_seeds"] = float(np.mean([ap(r, yt) for r in randoms]))
    diffs = [ap(scores["learned"][i], yt[i]) - ap(scores[best][i], yt[i])
             for i in (rng.integers(0, len(yt), len(yt)) for _ in range(BOOTSTRAP))]
    diffs = [d for d in diffs if not np.isnan(d)]
    comparison = {"best_heuristic_by_validation": best, "validation_ap": valid_ap,
                  **margins(methods["learned"]["ap"], methods[best]["ap"],
                            methods["random"]["ap_mean_over_seeds"]),
                  "ap_difference_pair_ci": interval(diffs),
                  "paper_margin": PAPER_MARGIN[kind], "paper": paper_margins(kind)}
    print(f"== {kind}: {len(yt)} {held_out} pairs, {int(yt.sum())} positives; heuristic AP "
          f"over all labelled pairs {all_pairs_ap}")
    for name, m in methods.items():
        print(f"{name:>9}: AP {m['ap']:.3f} (titles {m['ap_title_ci'][0]:.3f}-"
              f"{m['ap_title_ci'][1]:.3f}, pairs {m['ap_pair_ci'][0]:.3f}-"
              f"{m['ap_pair_ci'][1]:.3f}); P@10/title {m['precision_at_10_per_title']:.3f}")
    print(f"learned vs {best}: AP x{comparison['ap_ratio']:.2f}, difference "
          f"{comparison['ap_difference']:+.3f} (95% {comparison['ap_difference_pair_ci'][0]:+.3f}"
          f" to {comparison['ap_difference_pair_ci'][1]:+.3f}); validation AP {choices}, "
          f"chose {chosen}")
    return {"labels": doc["agreement"], "evaluated_on": held_out,
            "heuristic_ap_all_labelled_pairs": all_pairs_ap, "test_titles": titles,
            "test_pairs": len(yt),
            "test_positives": int(yt.sum()), "validation_ap_by_model": choices,
            "chosen_model": chosen, "candidate_recall": candidate_recall(kind, rows, y, records),
            "methods": methods, "learned_vs_best_heuristic": comparison}


def register(home: Path, docs: dict[str, dict[str, Any]], vectors: dict[str, np.ndarray]
             ) -> dict[str, Any]:
    """Every labelled pair through the production retrain flow (a logistic regression per
    kind, C=1), registered as ``matchcut/pair-scorer`` with lineage to the labels dataset."""
    kinds, rows, labels = [], [], []
    for kind in KINDS:
        for r in docs[kind]["pairs"]:
            kinds.append(kind)
            rows.append(vectors["|".join(sorted((r["shot_a"], r["shot_b"])))])
            labels.append(int(r[f"{kind}_match"]))
    with Workspace.open(Settings.load(home=str(home), database_url="")) as ws:
        version = retrain(ws, LabelSet(kinds, np.stack(rows), np.array(labels)))
        upstream = {n["uri"] for n in ws.graph.lineage(f"rg://model/{MODEL}@{version}")
                    .to_dict()["nodes"]} if version else set()
    print(f"registered {MODEL} version {version}; lineage reaches {LABELS.uri}: "
          f"{LABELS.uri in upstream}")
    return {"model": MODEL, "version": version, "labels": LABELS.uri,
            "lineage_reaches_labels": LABELS.uri in upstream, "rows": len(labels)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--home", type=Path, default=Path("/tmp/reelgraph-matchcut-quality"))
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    docs, vectors, records = load(args.home)
    kinds = {kind: evaluate(kind, docs[kind], vectors, records) for kind in KINDS}
    registered = register(args.home, docs, vectors)
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps({
        "when": datetime.now(UTC).isoformat(timespec="seconds"), "machine": machine(),
        "load_average_1m_before": round(load_before, 2),
        "versions": versions("scikit-learn", "opencv-python-headless"),
        "kinds": kinds, "bootstrap": BOOTSTRAP, "random_seeds": SEEDS,
        "registered": registered,
    }, indent=1) + "\n")


if __name__ == "__main__":
    main()
