"""The comparison the issue asks for, as plain functions the flow and the benchmark share.

``prepare`` builds the tasks and item features once; ``fit`` trains the network on some
canvases' examples (all four: the unified model; one: a single-task model of the same
architecture); ``fit_baselines`` fits popularity, EASE and fuzzy titles; ``evaluate_on``
scores any of them per canvas on the same test requests. ``run_experiment`` does it all.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from reelgraph.recsys.baselines import Ease, FuzzyTitles, Popularity
from reelgraph.recsys.canvases import CANVAS_NAMES
from reelgraph.recsys.data import Dataset
from reelgraph.recsys.evaluation import Scorer, evaluate
from reelgraph.recsys.hyperparameters import TrainConfig
from reelgraph.recsys.items import ItemFeatures
from reelgraph.recsys.recommender import UnifiedRecommender, Vocabulary
from reelgraph.recsys.split import TimeSplit
from reelgraph.recsys.tasks import TaskConfig, Tasks, build_tasks
from reelgraph.recsys.text import BUCKETS, TextEncoder

if TYPE_CHECKING:
    import numpy as np

# Which baselines apply to which canvas: EASE needs a user history or a source item, fuzzy
# matching a query; popularity answers everything.
BASELINES = {"popularity": CANVAS_NAMES, "ease": ("related", "category", "notifications"),
             "fuzzy": ("search",)}


@dataclass(frozen=True)
class ExperimentConfig:
    holdout: float = 0.2
    tasks: TaskConfig = field(default_factory=TaskConfig)
    dim: int = 32
    history: int = 50
    buckets: int = BUCKETS
    train: TrainConfig = field(default_factory=TrainConfig)
    ease_l2: float = 200.0
    ease_max_items: int = 5000


@dataclass(frozen=True)
class Prepared:
    tasks: Tasks
    items: ItemFeatures
    encoder: TextEncoder


@dataclass(frozen=True)
class Fitted:
    """A trained network, as a recommender, with its training record."""

    recommender: UnifiedRecommender
    canvases: tuple[str, ...]
    parameters: int
    train_seconds: float
    losses: list[float]


def prepare(dataset: Dataset, config: ExperimentConfig,
            item_vectors: np.ndarray | None = None) -> Prepared:
    split = TimeSplit.at_quantile(dataset.interactions, config.holdout)
    tasks = build_tasks(dataset, split, config.tasks)
    encoder = TextEncoder(config.buckets)
    return Prepared(tasks, ItemFeatures.build(dataset.catalog, split.cutoff, encoder,
                                              item_vectors, tasks.timeline), encoder)


def fit(prepared: Prepared, config: ExperimentConfig,
        canvases: Iterable[str] = CANVAS_NAMES) -> Fitted:
    """Train the network on the given canvases' examples (jointly when several)."""
    from reelgraph.recsys.batch import Featurizer, ItemInputs
    from reelgraph.recsys.model import ModelConfig, UnifiedNet
    from reelgraph.recsys.training import train

    chosen = tuple(canvases)
    tasks, items = prepared.tasks, prepared.items
    dataset = tasks.dataset
    model_config = ModelConfig(
        n_items=dataset.n_items, n_users=dataset.n_users, n_categories=items.n_categories,
        n_tags=items.n_tags, dim=config.dim, buckets=config.buckets, history=config.history,
        vector_dim=0 if items.vectors is None else items.vectors.shape[1],
        popularity_dim=0 if items.popularity is None else items.popularity.shape[1])
    net = UnifiedNet(model_config)
    featurize = Featurizer(tasks.timeline, tasks.known_users, prepared.encoder,
                           config.history, dataset.n_items)
    result = train(net, tasks.training(chosen), featurize, ItemInputs.of(items),
                   config.train)
    vocabulary = Vocabulary(dataset.item_ids, dataset.user_ids,
                            dataset.catalog.category_names, dataset.catalog.titles)
    recommender = UnifiedRecommender(net, vocabulary, items, tasks.timeline,
                                     tasks.known_users, prepared.encoder)
    return Fitted(recommender, chosen, net.size(), result.seconds, result.losses)


def evaluate_on(prepared: Prepared, scorer: Scorer, canvases: Iterable[str]
                ) -> dict[str, dict[str, float]]:
    """Metrics per canvas for one scorer."""
    tasks = prepared.tasks
    return {name: evaluate(scorer, tasks.by_canvas[name].test, tasks.timeline,
                           prepared.items.category_matrix) for name in canvases}


def fit_baselines(prepared: Prepared, config: ExperimentConfig
                  ) -> tuple[dict[str, Scorer], dict[str, float]]:
    """(the baselines by name, seconds each took to fit)."""
    tasks = prepared.tasks
    timeline, cutoff, n_items = tasks.timeline, tasks.split.cutoff, tasks.dataset.n_items
    seconds: dict[str, float] = {}
    fitted: dict[str, Scorer] = {}
    for name, make in (
        ("popularity", lambda: Popularity.fit(timeline, cutoff, n_items)),
        ("ease", lambda: Ease.fit(timeline, cutoff, n_items, config.ease_l2,
                                  config.ease_max_items)),
        ("fuzzy", lambda: FuzzyTitles(tasks.dataset.catalog.titles)),
    ):
        started = time.perf_counter()
        fitted[name] = make()
        seconds[name] = time.perf_counter() - started
    return fitted, seconds


@dataclass(frozen=True)
class ExperimentResult:
    dataset: str
    split: str
    examples: dict[str, dict[str, int]]  # per canvas: train examples, test requests
    metrics: dict[str, dict[str, dict[str, float]]]  # canvas -> model -> metric -> value
    models: dict[str, dict[str, Any]]  # unified / single-task:CANVAS -> size and time
    unified: Fitted

    def to_dict(self) -> dict[str, Any]:
        return {"dataset": self.dataset, "split": self.split, "examples": self.examples,
                "metrics": self.metrics, "models": self.models}


def _record(fitted: Fitted) -> dict[str, Any]:
    return {"canvases": list(fitted.canvases), "parameters": fitted.parameters,
            "train_seconds": round(fitted.train_seconds, 2),
            "losses": [round(v, 4) for v in fitted.losses]}


def run_experiment(dataset: Dataset, config: ExperimentConfig | None = None,
                   single_task: bool = True) -> ExperimentResult:
    """Unified model, single-task models and baselines on one time split, per canvas."""
    config = config or ExperimentConfig()
    prepared = prepare(dataset, config)
    metrics: dict[str, dict[str, dict[str, float]]] = {c: {} for c in CANVAS_NAMES}
    unified = fit(prepared, config)
    for canvas, values in evaluate_on(prepared, unified.recommender.scorer,
                                      CANVAS_NAMES).items():
        metrics[canvas]["unified"] = values
    models = {"unified": _record(unified)}
    if single_task:
        for canvas in CANVAS_NAMES:
            alone = fit(prepared, config, (canvas,))
            metrics[canvas]["single_task"] = evaluate_on(
                prepared, alone.recommender.scorer, (canvas,))[canvas]
            models[f"single_task:{canvas}"] = _record(alone)
    baselines, seconds = fit_baselines(prepared, config)
    for name, canvases in BASELINES.items():
        for canvas, values in evaluate_on(prepared, baselines[name], canvases).items():
            metrics[canvas][name] = values
        models[name] = {"fit_seconds": round(seconds[name], 2)}
    unified.recommender.metrics.update(flat_metrics(metrics, "unified"))
    return ExperimentResult(dataset.name, prepared.tasks.split.describe(),
                            prepared.tasks.describe(), metrics, models, unified)


def flat_metrics(metrics: Mapping[str, Mapping[str, Mapping[str, float]]], model: str
                 ) -> dict[str, float]:
    """One model's metrics as ``{"CANVAS/METRIC": value}`` (how the registry stores them)."""
    return {f"{canvas}/{name}": value for canvas, by_model in metrics.items()
            if model in by_model for name, value in by_model[model].items()}
