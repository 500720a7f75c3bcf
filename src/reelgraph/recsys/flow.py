"""Training the unified recommender on the paved road, and registering it with its metrics.

The flow's steps: load the dataset (recorded in the graph as the run's input), read item
vectors from the feature store when ``item_vectors`` names a vector feature (the run reads
that feature version too), build every canvas's examples and the item features,
train the unified model, one single-task model per canvas (a foreach, so they run in
parallel), fit the classical baselines, put every model's metrics in one table, and hand
the unified model's bundle (with its metrics) to the registry. ``train_and_register`` runs
it and registers the version, its metrics named ``CANVAS/METRIC`` (``search/ndcg@10``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from reelgraph.core import ReelgraphError
from reelgraph.flows import Flow, Progress, Runner, RunRecord, StepContext, Workspace
from reelgraph.flows.registry import ModelRegistry, ModelVersion
from reelgraph.recsys.canvases import CANVAS_NAMES
from reelgraph.recsys.data import Dataset, load_movielens
from reelgraph.recsys.data.lineage import register_dataset
from reelgraph.recsys.experiment import (
    BASELINES,
    ExperimentConfig,
    Prepared,
    evaluate_on,
    fit,
    fit_baselines,
    flat_metrics,
    prepare,
)
from reelgraph.recsys.tasks import TaskConfig

MODEL = "personalization/unified-recommender"
# What a trained model depends on beyond the steps' own source: editing the recommender's
# code invalidates cached training results (and with them stale registered bundles).
CODE = ("reelgraph.recsys",)
STEP = "model"

training = Flow(
    "train-unified-recommender",
    namespace="personalization",
    params={"data_dir": "", "item_vectors": "", "holdout": 0.2, "epochs": 3, "dim": 32,
            "max_train": 25_000, "max_eval": 2_000, "seed": 0},
    description="the unified multi-task recommender, its single-task twins and baselines, "
                "evaluated per canvas on a global time split",
    owner="personalization",
)


def _config(holdout: float, epochs: int, dim: int, max_train: int, max_eval: int, seed: int
            ) -> ExperimentConfig:
    train = replace(ExperimentConfig().train, epochs=epochs, seed=seed)
    return ExperimentConfig(holdout=holdout, dim=dim, train=train,
                            tasks=TaskConfig(seed=seed, max_train=max_train,
                                             max_eval=max_eval))


@training.step
def dataset(data_dir: str, ctx: StepContext) -> Dataset:
    loaded = load_movielens(data_dir)
    if ctx.settings is not None:
        ctx.read(register_dataset(ctx.workspace.graph, loaded, Path(data_dir)))
    return loaded


@training.step
def vectors(dataset: Dataset, item_vectors: str, ctx: StepContext) -> np.ndarray | None:
    """The items' vectors from the feature store, or None without ``item_vectors``."""
    if not item_vectors or ctx.settings is None:
        return None
    from reelgraph.recsys.vectors import read_item_vectors

    found = read_item_vectors(ctx.workspace, item_vectors, dataset.item_ids)
    ctx.read(found.uri)
    ctx.log(f"{found.covered:,} of {len(dataset.item_ids):,} items have {found.uri}")
    return found.matrix


@training.step(code=CODE)
def prepared(dataset: Dataset, vectors: np.ndarray | None, holdout: float, epochs: int,
             dim: int, max_train: int, max_eval: int, seed: int) -> Prepared:
    return prepare(dataset, _config(holdout, epochs, dim, max_train, max_eval, seed), vectors)


@training.step(code=CODE)
def unified(prepared: Prepared, holdout: float, epochs: int, dim: int, max_train: int,
            max_eval: int, seed: int) -> dict[str, Any]:
    fitted = fit(prepared, _config(holdout, epochs, dim, max_train, max_eval, seed))
    return {"bundle": fitted.recommender.to_bundle(), "parameters": fitted.parameters,
            "train_seconds": fitted.train_seconds, "losses": fitted.losses,
            "metrics": evaluate_on(prepared, fitted.recommender.scorer, CANVAS_NAMES)}


@training.step
def canvases() -> list[str]:
    return list(CANVAS_NAMES)


@training.step(foreach="canvases", code=CODE)
def single_task(item: str, prepared: Prepared, holdout: float, epochs: int, dim: int,
                max_train: int, max_eval: int, seed: int) -> dict[str, Any]:
    fitted = fit(prepared, _config(holdout, epochs, dim, max_train, max_eval, seed), (item,))
    return {"canvas": item, "parameters": fitted.parameters,
            "train_seconds": fitted.train_seconds,
            "metrics": evaluate_on(prepared, fitted.recommender.scorer, (item,))[item]}


@training.step(code=CODE)
def baselines(prepared: Prepared) -> dict[str, dict[str, dict[str, float]]]:
    fitted, _ = fit_baselines(prepared, ExperimentConfig())
    found: dict[str, dict[str, dict[str, float]]] = {c: {} for c in CANVAS_NAMES}
    for name, applies in BASELINES.items():
        for canvas, values in evaluate_on(prepared, fitted[name], applies).items():
            found[canvas][name] = values
    return found


@training.step
def evaluation(unified: dict[str, Any], single_task: list[dict[str, Any]],
               baselines: dict[str, dict[str, dict[str, float]]]
               ) -> dict[str, dict[str, dict[str, float]]]:
    """canvas -> model -> metric: the unified model, its single-task twin, the baselines."""
    table = {c: {"unified": unified["metrics"][c], **baselines[c]} for c in CANVAS_NAMES}
    for alone in single_task:
        table[alone["canvas"]]["single_task"] = alone["metrics"]
    return table


@training.step
def model(unified: dict[str, Any], evaluation: dict[str, dict[str, dict[str, float]]]
          ) -> dict[str, Any]:
    """The unified model's bundle with its per-canvas metrics: what the registry holds."""
    return {**unified["bundle"], "metrics": flat_metrics(evaluation, "unified")}


@dataclass(frozen=True)
class TrainingOutcome:
    run: RunRecord
    evaluation: dict[str, dict[str, dict[str, float]]]
    version: ModelVersion


def train_and_register(ws: Workspace, data_dir: str | Path, *, executor: str | None = None,
                       use_cache: bool = True, who: str = "reelgraph recsys",
                       progress: Progress | None = None, **params: Any) -> TrainingOutcome:
    """Run the training flow and register its model (params: the flow's, e.g. epochs=2).

    A run whose model is already registered (every step reused from the cache) returns
    that version instead of registering it twice.
    """
    run = Runner(ws).run(training, {"data_dir": str(data_dir), **params}, executor,
                         use_cache=use_cache, seed=int(params.get("seed", 0)),
                         progress=progress)
    if run.status != "succeeded":
        raise ReelgraphError(f"the unified recommender's training run {run.id} {run.status}: "
                             f"{run.error}",
                             f"read its logs (`reelgraph runs logs {run.id}`), fix the cause "
                             f"and resume it (`reelgraph runs resume {run.id}`)")
    table = ws.load(run.id, "evaluation")
    metrics = flat_metrics(table, "unified")
    registry = ModelRegistry(ws)
    digest = ws.runs.artifact(run.id, STEP).digest
    if any(m.name == MODEL for m in registry.models()):
        for known in registry.model(MODEL).versions:
            if known.artifact.digest == digest:  # a memoized run: already registered
                return TrainingOutcome(run, table, known)
    number = registry.register(
        MODEL, run.id, step=STEP, metrics=metrics,
        signature={"inputs": "canvas, user, item, query, category, context",
                   "outputs": "items with one engagement score",
                   "canvases": list(CANVAS_NAMES)},
        description="one multi-task model for related, category, search and notifications",
        owner="personalization", who=who)
    return TrainingOutcome(run, table, registry.version(MODEL, number))

