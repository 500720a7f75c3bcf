"""The comparison the issue asks for, as plain functions the flow and the benchmark share.

``prepare`` builds the tasks and item features once; ``fit`` trains the network on some
canvases' examples (all four: the unified model; one: a single-task model of the same
architecture); ``fit_baselines`` fits popularity, EASE and fuzzy titles; ``evaluate_on``
scores any of them per canvas on the same test requests. ``run_experiment`` does it all.

Early stopping without peeking at the test period: with ``validation > 0``, ``prepare`` also
builds a validation experiment inside the training period (its last ``validation`` share of
interactions held out, tasks and item features as of that inner cut-off). ``fit`` first
trains there, scoring every epoch on the validation requests, then retrains on the whole
training period with the same learning-rate schedule and stops after the best epoch. An
epoch's score is the mean over the canvases trained of its NDCG@10 as a fraction of that
canvas's best epoch, so search's large NDCG does not outweigh the personalized canvases.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from reelgraph.recsys.baselines import Ease, FuzzyTitles, Popularity
from reelgraph.recsys.canvases import CANVAS_NAMES, canvas
from reelgraph.recsys.compare import paired_bootstrap
from reelgraph.recsys.data import Dataset
from reelgraph.recsys.evaluation import Scorer, per_request, summary
from reelgraph.recsys.hyperparameters import TrainConfig
from reelgraph.recsys.items import ItemFeatures, PriorConfig
from reelgraph.recsys.recommender import UnifiedRecommender, Vocabulary
from reelgraph.recsys.split import TimeSplit
from reelgraph.recsys.tasks import TaskConfig, Tasks, build_tasks
from reelgraph.recsys.text import BUCKETS, TextEncoder

# Which baselines apply to which canvas: EASE needs a user history or a source item, fuzzy
# matching a query; popularity answers everything, recent popularity (the last 7 days before
# the cut-off) the canvases without a query.
PERSONALIZED = ("related", "category", "notifications")
BASELINES = {"popularity": CANVAS_NAMES, "recent_popularity": PERSONALIZED,
             "ease": PERSONALIZED, "fuzzy": ("search",)}


@dataclass(frozen=True)
class ExperimentConfig:
    holdout: float = 0.2
    tasks: TaskConfig = field(default_factory=TaskConfig)
    dim: int = 32
    history: int = 50
    buckets: int = BUCKETS
    # calibrated: the fixed blocks' weights are fitted before epoch 1, and validation may
    # keep that untrained network (epoch 0)
    train: TrainConfig = field(default_factory=lambda: TrainConfig(calibrate=True))
    text_dim: int = 128  # see ModelConfig.text_dim
    validation: float = 0.2  # the training period's last share that picks the epoch; 0: off
    ease_l2: float = 200.0
    ease_max_items: int = 5000
    prior_rank: int = 128  # the network corrects EASE's factored scores; 0: no prior
    lexical_dim: int = 2048  # see ModelConfig.lexical_dim; 0: no lexical block
    whole_titles: bool = True  # the encoder adds a bucket for the whole text (TextEncoder)
    gram_sizes: tuple[int, ...] = (2, 3)  # character n-gram lengths: bigrams beside trigrams
    word_prefixes: bool = False  # the encoder adds each word's prefixes (TextEncoder)
    fixed_popularity: bool = False  # see ModelConfig
    residual: bool = True  # see ModelConfig
    fresh_popularity: bool = True  # see ModelConfig
    initial_prior_weight: float = 1.0
    recent_history: int = 0  # see ModelConfig.recent_history; 0: none (no gain measured)
    # validation keeps the learned part only for the canvases it improves (calibrated only)
    gated_residual: bool = True


@dataclass(frozen=True)
class Prepared:
    tasks: Tasks
    items: ItemFeatures
    encoder: TextEncoder
    validation: Prepared | None = None  # the same, split inside the training period


@dataclass(frozen=True)
class Fitted:
    """A trained network, as a recommender, with its training record."""

    recommender: UnifiedRecommender
    canvases: tuple[str, ...]
    parameters: int
    train_seconds: float  # the validation run's included
    losses: list[float]
    validation: list[dict[str, float]] = field(default_factory=list)  # NDCG@10 per epoch
    residual_canvases: tuple[str, ...] = ()  # where the learned part is on (all: ungated)


def prepare(dataset: Dataset, config: ExperimentConfig,
            item_vectors: np.ndarray | None = None) -> Prepared:
    split = TimeSplit.at_quantile(dataset.interactions, config.holdout)
    tasks = build_tasks(dataset, split, config.tasks)
    encoder = TextEncoder(config.buckets, config.gram_sizes, whole=config.whole_titles,
                          prefixes=config.word_prefixes)
    validation = None
    if config.validation > 0:
        validation = prepare(before(dataset, split.cutoff),
                             replace(config, holdout=config.validation, validation=0.0),
                             item_vectors)
    prior = PriorConfig(config.prior_rank, config.ease_l2, config.ease_max_items)
    return Prepared(tasks, ItemFeatures.build(dataset.catalog, split.cutoff, encoder,
                                              item_vectors, tasks.timeline, prior), encoder,
                    validation)


def before(dataset: Dataset, cutoff: int) -> Dataset:
    """The dataset as it stood at ``cutoff``: its interactions strictly before it (the
    catalog's tags are cut by time wherever they are used)."""
    it = dataset.interactions
    keep = it.time < cutoff
    return replace(dataset, interactions=replace(
        it, user=it.user[keep], item=it.item[keep], time=it.time[keep], event=it.event[keep],
        value=it.value[keep]))


def fit(prepared: Prepared, config: ExperimentConfig,
        canvases: Iterable[str] = CANVAS_NAMES) -> Fitted:
    """Train the network on the given canvases' examples (jointly when several), for the
    epoch count the validation run picks if ``prepared`` has one."""
    chosen = tuple(canvases)
    seconds = 0.0
    scores: list[dict[str, float]] = []
    stop = config.train.epochs
    trained: tuple[str, ...] | None = None  # without validation: the learned part stays on
    inner = prepared.validation
    if inner is not None and len(inner.tasks.training(chosen)) > 0:
        per_epoch: list[dict[str, np.ndarray]] = []  # NDCG@10 per validation request

        def validate(recommender: UnifiedRecommender) -> bool:
            found = per_request_on(inner, recommender.scorer, chosen)
            per_epoch.append({c: found[c]["ndcg@10"] for c in chosen})
            scores.append({c: summary(found[c])["ndcg@10"] for c in chosen})
            return False

        seconds = _fit(inner, config, chosen, validate).train_seconds
        if not config.train.calibrate:
            stop, trained = best_epoch(scores), chosen
        elif config.gated_residual:
            stop, trained = gated_epoch(per_epoch)
        else:
            stop, trained = best_epoch(scores, first=0), chosen
    fitted = _fit(prepared, config, chosen, lambda _: False, stop, trained)
    return replace(fitted, train_seconds=fitted.train_seconds + seconds, validation=scores)


def gated_epoch(per_epoch: list[dict[str, np.ndarray]]) -> tuple[int, tuple[str, ...]]:
    """(epoch, the canvases whose learned part stays on) from calibrated validation scores
    per request (``per_epoch[0]``: epoch 0): at each epoch a canvas keeps the learned part
    only where it beat epoch 0 beyond the noise (its paired bootstrap interval above 0;
    a gain within the noise of which requests were drawn does not count), the others rank
    as at epoch 0, and the epoch is ``best_epoch``'s over those scores."""
    first = per_epoch[0]
    gains = [{c: paired_bootstrap(values[c], first[c]).verdict == "win" for c in first}
             for values in per_epoch]
    gated = [{c: float(np.mean(values[c] if gain[c] else first[c])) for c in first}
             for values, gain in zip(per_epoch, gains, strict=True)]
    epoch = best_epoch(gated, first=0)
    return epoch, tuple(c for c in first if epoch > 0 and gains[epoch][c])


def best_epoch(scores: list[dict[str, float]], first: int = 1) -> int:
    """The epoch (``scores[0]`` is epoch ``first``: 0 is the calibrated, untrained network)
    whose NDCG@10, as a fraction of each canvas's best, is highest on average over the
    canvases; the earliest of equals, so training must earn every epoch."""
    best = {c: max(max(s[c] for s in scores), 1e-12) for c in scores[0]}
    relative = [sum(s[c] / best[c] for c in best) for s in scores]
    return int(np.argmax(relative)) + first


def _fit(prepared: Prepared, config: ExperimentConfig, chosen: tuple[str, ...],
         after_epoch: Callable[[UnifiedRecommender], bool], stop: int | None = None,
         trained: tuple[str, ...] | None = None) -> Fitted:
    """Train on ``prepared``'s tasks; ``after_epoch`` sees the recommender after each epoch;
    training ends after epoch ``stop`` (the schedule stays that of ``config.train``); the
    canvases of ``chosen`` not in ``trained`` then rank as at epoch 0 (``gated_residual``)."""
    import torch

    from reelgraph.recsys.batch import Featurizer, ItemInputs
    from reelgraph.recsys.freshness import RecentCounts
    from reelgraph.recsys.model import ModelConfig, UnifiedNet
    from reelgraph.recsys.training import train

    tasks, items = prepared.tasks, prepared.items
    dataset = tasks.dataset
    model_config = ModelConfig(
        n_items=dataset.n_items, n_users=dataset.n_users, n_categories=items.n_categories,
        n_tags=items.n_tags, dim=config.dim, buckets=config.buckets, history=config.history,
        vector_dim=0 if items.vectors is None else items.vectors.shape[1],
        popularity_dim=0 if items.popularity is None else items.popularity.shape[1],
        text_dim=config.text_dim, prior_rank=0 if items.prior is None else config.prior_rank,
        lexical_dim=config.lexical_dim, fixed_popularity=config.fixed_popularity,
        residual=config.residual, initial_prior_weight=config.initial_prior_weight,
        fresh_popularity=config.fresh_popularity,
        recent_history=config.recent_history if items.prior is not None else 0,
        gated_residual=config.gated_residual and config.train.calibrate)
    net = UnifiedNet(model_config)
    if items.prior is not None:
        net.set_prior(*items.prior)
    if config.lexical_dim:
        net.set_lexical(items.title_grams)
    fresh = RecentCounts.of(tasks.timeline, dataset.n_items) if config.fresh_popularity \
        else None
    featurize = Featurizer(tasks.timeline, tasks.known_users, prepared.encoder,
                           config.history, dataset.n_items, fresh)
    vocabulary = Vocabulary(dataset.item_ids, dataset.user_ids,
                            dataset.catalog.category_names, dataset.catalog.titles)

    def recommender() -> UnifiedRecommender:
        return UnifiedRecommender(net, vocabulary, items, tasks.timeline, tasks.known_users,
                                  prepared.encoder)

    calibrated: dict[str, torch.Tensor] = {}

    def after(epoch: int) -> bool:
        if epoch == 0:  # the calibrated weights, for the canvases training does not earn
            trust = net.trust_parameters()
            calibrated.update({name: p.detach().clone() for name, p in net.named_parameters()
                               if any(p is t for t in trust)})
        return after_epoch(recommender()) or (stop is not None and epoch >= stop)

    result = train(net, tasks.training(chosen), featurize, ItemInputs.of(items),
                   config.train, after)
    kept = chosen if trained is None else trained
    shut = [canvas(c).index for c in chosen if c not in kept]
    if model_config.gated_residual and result.losses and shut:
        net.shut_residual(shut, calibrated)
    return Fitted(recommender(), chosen, net.size(), result.seconds, result.losses,
                  residual_canvases=kept if result.losses else ())


def evaluate_on(prepared: Prepared, scorer: Scorer, canvases: Iterable[str]
                ) -> dict[str, dict[str, float]]:
    """Metrics per canvas for one scorer."""
    return {name: summary(values)
            for name, values in per_request_on(prepared, scorer, canvases).items()}


def per_request_on(prepared: Prepared, scorer: Scorer, canvases: Iterable[str]
                   ) -> dict[str, dict[str, np.ndarray]]:
    """Each test request's metrics per canvas for one scorer."""
    tasks = prepared.tasks
    return {name: per_request(scorer, tasks.by_canvas[name].test, tasks.timeline,
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
        ("recent_popularity", lambda: Popularity.recent(timeline, cutoff, n_items)),
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
    # canvas -> model -> metric -> value per test request (same order for every model)
    per_request: dict[str, dict[str, dict[str, np.ndarray]]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"dataset": self.dataset, "split": self.split, "examples": self.examples,
                "metrics": self.metrics, "models": self.models}


def _record(fitted: Fitted) -> dict[str, Any]:
    return {"canvases": list(fitted.canvases), "parameters": fitted.parameters,
            "train_seconds": round(fitted.train_seconds, 2),
            "losses": [round(v, 4) for v in fitted.losses],
            "validation_ndcg@10": [{c: round(v, 4) for c, v in epoch.items()}
                                   for epoch in fitted.validation],
            "residual_canvases": list(fitted.residual_canvases)}


def run_experiment(dataset: Dataset, config: ExperimentConfig | None = None,
                   single_task: bool = True, prepared: Prepared | None = None
                   ) -> ExperimentResult:
    """Unified model, single-task models and baselines on one time split, per canvas
    (``prepared``: ``prepare(dataset, config)`` already made, e.g. shared by model seeds:
    it does not depend on the training seed)."""
    config = config or ExperimentConfig()
    prepared = prepared or prepare(dataset, config)
    found: dict[str, dict[str, dict[str, np.ndarray]]] = {c: {} for c in CANVAS_NAMES}

    def score(model: str, scorer: Scorer, canvases: Iterable[str]) -> None:
        for canvas, values in per_request_on(prepared, scorer, canvases).items():
            found[canvas][model] = values

    unified = fit(prepared, config)
    score("unified", unified.recommender.scorer, CANVAS_NAMES)
    models = {"unified": _record(unified)}
    if single_task:
        for canvas in CANVAS_NAMES:
            alone = fit(prepared, config, (canvas,))
            score("single_task", alone.recommender.scorer, (canvas,))
            models[f"single_task:{canvas}"] = _record(alone)
    baselines, seconds = fit_baselines(prepared, config)
    for name, canvases in BASELINES.items():
        score(name, baselines[name], canvases)
        models[name] = {"fit_seconds": round(seconds[name], 2)}
    metrics = {canvas: {model: summary(values) for model, values in by_model.items()}
               for canvas, by_model in found.items()}
    unified.recommender.metrics.update(flat_metrics(metrics, "unified"))
    return ExperimentResult(dataset.name, prepared.tasks.split.describe(),
                            prepared.tasks.describe(), metrics, models, unified, found)


def flat_metrics(metrics: Mapping[str, Mapping[str, Mapping[str, float]]], model: str
                 ) -> dict[str, float]:
    """One model's metrics as ``{"CANVAS/METRIC": value}`` (how the registry stores them)."""
    return {f"{canvas}/{name}": value for canvas, by_model in metrics.items()
            if model in by_model for name, value in by_model[model].items()}
