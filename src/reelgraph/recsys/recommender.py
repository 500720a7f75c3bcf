"""The canvas-agnostic front of the unified model: one ``recommend`` for every canvas.

    recommender = UnifiedRecommender.from_registry(registry, "personalization/unified-recommender")
    recommender.recommend("search", query="termnator", user="42", k=5)
    recommender.recommend("related", item="1")
    recommender.recommend("category", user="42", category="Comedy")
    recommender.recommend("notifications", user="42", context={"time": 1537000000})

Each canvas takes the inputs it uses (``canvases.Canvas``) and ignores the others. A user
the model has no learned state for (absent from its vocabulary, or with no interactions
before its cut-off) gets a cold-start answer, flagged ``cold_start``; so does a request of a
personalised canvas made without a user. Errors name the problem and the fix:
``InvalidInput`` for an unknown canvas or category, missing required input, ``k`` out of
range, an empty query, unknown context keys; ``NotFound`` for an unknown item.

A recommender is saved as one bundle (state dict, configuration, vocabularies, item
features and the timeline of histories it serves from) through the artifact store, which
is also the value the training flow registers.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np

from reelgraph.core import Conflict, InvalidInput, NotFound
from reelgraph.recsys.canvases import CANVAS_NAMES, Canvas, canvas
from reelgraph.recsys.evaluation import rank
from reelgraph.recsys.freshness import RecentCounts
from reelgraph.recsys.items import ItemFeatures
from reelgraph.recsys.requests import Requests
from reelgraph.recsys.text import TextEncoder
from reelgraph.recsys.timeline import Timeline

if TYPE_CHECKING:
    from reelgraph.artifacts import ArtifactRef, ArtifactStore
    from reelgraph.flows.registry import ModelRegistry
    from reelgraph.recsys.attribution import Attributions
    from reelgraph.recsys.model import UnifiedNet
    from reelgraph.recsys.precompute import ScoredBatch, Targets
    from reelgraph.recsys.scoring import NetScorer

FORMAT = "reelgraph.recsys.unified/1"
MAX_K = 100
CONTEXT_KEYS = ("time",)
LATEST_TIME = 253_402_300_799  # 9999-12-31T23:59:59Z, in unix seconds


@dataclass(frozen=True)
class Recommendations:
    canvas: str
    items: tuple[tuple[str, float], ...]  # (external item id, score), best first
    model_version: str
    cold_start: bool

    def to_dict(self) -> dict[str, Any]:
        return {"canvas": self.canvas, "model_version": self.model_version,
                "cold_start": self.cold_start,
                "items": [{"item": i, "score": s} for i, s in self.items]}


@dataclass(frozen=True)
class RecommendRequest:
    """One checked request, ready to score."""

    canvas: Canvas
    requests: Requests  # one row
    k: int
    cold_start: bool
    key: str  # names the request's inputs for precomputed answers (``serving_key``)
    timeline: Timeline | None = None  # with events newer than the model's; None: its own

    @property
    def time(self) -> int:
        """When the request is made (unix seconds; the model's ``now`` by default)."""
        return int(self.requests.time[0])


def serving_key(spec: Canvas, *, user: str | int | None = None, item: str | int | None = None,
                category: str | None = None) -> str:
    """What a precomputed answer of this canvas is stored under: the inputs it depends
    on (``42``, ``42/Comedy``, ``item:1``); search's free text is never precomputed."""
    if spec.name == "related":
        return f"item:{item}"
    if category is not None:
        return f"{user}/{category}"
    return str(user)


@dataclass(frozen=True)
class Vocabulary:
    item_ids: tuple[str, ...]
    user_ids: tuple[str, ...]
    categories: tuple[str, ...]
    titles: tuple[str, ...]

    @cached_property
    def item_index(self) -> dict[str, int]:
        return {item: i for i, item in enumerate(self.item_ids)}

    @cached_property
    def user_index(self) -> dict[str, int]:
        return {user: i for i, user in enumerate(self.user_ids)}


class UnifiedRecommender:
    def __init__(self, net: UnifiedNet, vocabulary: Vocabulary, items: ItemFeatures,
                 timeline: Timeline, known_users: np.ndarray, encoder: TextEncoder,
                 model_version: str = "unregistered",
                 metrics: Mapping[str, Any] | None = None) -> None:
        self.net = net
        self.vocabulary = vocabulary
        self.items = items
        self.timeline = timeline
        self.known_users = known_users
        self.encoder = encoder
        self.model_version = model_version
        self.metrics = dict(metrics or {})
        self.now = int(timeline.times.max()) + 1 if len(timeline.times) else 0

    @cached_property
    def scorer(self) -> NetScorer:
        from reelgraph.recsys.batch import Featurizer, ItemInputs
        from reelgraph.recsys.scoring import NetScorer

        config = self.net.config
        fresh = RecentCounts.of(self.timeline, config.n_items) if config.fresh_popularity \
            else None
        featurize = Featurizer(self.timeline, self.known_users, self.encoder,
                               config.history, config.n_items, fresh)
        return NetScorer(self.net, featurize, ItemInputs.of(self.items))

    # --- answering ------------------------------------------------------------------------

    def recommend(self, canvas_name: str, *, user: str | int | None = None,
                  item: str | int | None = None, query: str | None = None,
                  category: str | None = None, k: int = 10,
                  context: Mapping[str, Any] | None = None,
                  recent: Sequence[tuple[str, int]] = ()) -> Recommendations:
        return self.answer(self.request(canvas_name, user=user, item=item, query=query,
                                        category=category, k=k, context=context,
                                        recent=recent))

    def request(self, canvas_name: str, *, user: str | int | None = None,
                item: str | int | None = None, query: str | None = None,
                category: str | None = None, k: int = 10,
                context: Mapping[str, Any] | None = None,
                recent: Sequence[tuple[str, int]] = ()) -> RecommendRequest:
        """A checked request (every error raised here), not yet scored. ``recent``: the
        user's (item id, unix time) events since the model was trained (e.g. from the
        ``InteractionLog``), which join their history; items outside the catalog are
        skipped. The request's time defaults to just after the latest of them."""
        spec = canvas(canvas_name)
        if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= MAX_K:
            raise InvalidInput(f"k={k!r} is out of range", f"ask for 1 to {MAX_K} items")
        fresh = self._fresh(spec, user, recent)
        time = self._time(context, max((t for _, t in fresh), default=self.now - 1) + 1)
        given = {"user": user, "item": item, "query": query, "category": category}
        for name in spec.requires:
            if given[name] is None:
                raise InvalidInput(f"canvas {spec.name!r} needs a {name}",
                                   f"pass {name}=... ({spec.name}: {spec.description})")
        if "query" in spec.requires and not (query or "").strip():
            raise InvalidInput("the query is empty", "type at least one letter to search for")
        dense_user, cold_start = self._user(spec, user)
        within = category is not None and spec.within_category
        timeline = None
        if fresh and dense_user is not None:
            items, times = zip(*fresh, strict=True)
            timeline = self.timeline.one_user(dense_user, np.array(items), np.array(times))
        requests = Requests.build(
            spec, timeline or self.timeline, np.array([time]),
            user=None if dense_user is None else np.array([dense_user]),
            source=np.array([self._item(item)]) if "item" in spec.requires else None,
            category=np.array([self._category(category)])
            if category is not None and within else None,
            query=[query or ""] if "query" in spec.requires else None)
        key = serving_key(spec, user=user, item=item, category=category if within else None)
        return RecommendRequest(spec, requests, k, cold_start, key, timeline)

    def answer(self, request: RecommendRequest) -> Recommendations:
        """The request's top items by full ranking over every item its canvas allows."""
        timeline = request.timeline or self.timeline
        scorer = self.scorer if request.timeline is None else self.scorer.on(timeline)
        top, scores = rank(scorer, request.requests, timeline, self.items.category_matrix,
                           request.k)
        return self.answered(request, top[0], scores[0])

    def answered(self, request: RecommendRequest, items: np.ndarray, scores: np.ndarray
                 ) -> Recommendations:
        """Dense item ids and scores (best first; ``-inf`` for none) as the answer."""
        ids = self.vocabulary.item_ids
        found = tuple((ids[i], float(s)) for i, s in zip(items, scores, strict=True)
                      if np.isfinite(s))
        return Recommendations(request.canvas.name, found[:request.k], self.model_version,
                               request.cold_start)

    # --- the seams serving uses: vectors, masks and precomputed answers, all NumPy -------

    def item_vectors(self) -> np.ndarray:
        """float32 (items, dim): each item's side of the score, ``request . item``; its
        popularity block as of the model's now (rebuild the vectors to refresh it)."""
        import torch

        scorer = self.scorer
        fresh = scorer.featurize.fresh
        popularity = None if fresh is None else torch.from_numpy(
            fresh.features(np.array([self.now]))[0])
        with torch.no_grad():
            vectors: np.ndarray = self.net.item_side(scorer.item_vectors, scorer.titles,
                                                     popularity).numpy()
        return vectors

    def request_vector(self, request: RecommendRequest) -> np.ndarray:
        """float32 (dim,): the request's side of the score, against ``item_vectors``."""
        import torch

        scorer = self.scorer
        with torch.no_grad():
            left = self.net.request_side(scorer.featurize(request.requests),
                                         scorer.item_vectors, fresh=True)
        vector: np.ndarray = left.numpy()[0]
        return vector

    def allowed_items(self, request: RecommendRequest) -> np.ndarray:
        """bool (items,): the items the request's canvas may answer with."""
        from reelgraph.recsys.candidates import allowed

        mask: np.ndarray = allowed(request.requests, self.timeline, self.items.category_matrix,
                                   len(self.vocabulary.item_ids))[0]
        return mask

    def targets(self, canvas_name: str, users: Sequence[str] | None = None) -> Targets:
        """What to precompute for a canvas (``users``: only these; default every user the
        model knows; related: every item)."""
        from reelgraph.recsys.precompute import targets

        return targets(self, canvas_name, users)

    def score_targets(self, found: Targets, k: int) -> Iterator[ScoredBatch]:
        """The targets' top ``k`` items by full ranking, in batches, at the model's now."""
        from reelgraph.recsys.precompute import score_targets

        return score_targets(self, found, k)

    def explain(self, request: RecommendRequest, items: Sequence[str],
                samples: int = 32) -> Attributions:
        """Which of the request's inputs drove each item's score (Shapley values with
        Captum, ``recsys.attribution``); NumPy out."""
        from reelgraph.recsys.attribution import explain

        return explain(self, request, items, samples)

    @staticmethod
    def limit_compute_threads(threads: int) -> None:
        """Size this process's compute pools (PyTorch, OpenBLAS, OpenMP), e.g. for serving."""
        import torch
        from threadpoolctl import threadpool_limits

        torch.set_num_threads(threads)
        threadpool_limits(threads)  # applies now and stays for the life of the process

    def _time(self, context: Mapping[str, Any] | None, default: int) -> int:
        extra = sorted(set(context or {}) - set(CONTEXT_KEYS))
        if extra:
            raise InvalidInput(f"unknown context key(s) {', '.join(extra)}",
                               f"use only {', '.join(CONTEXT_KEYS)}")
        time = (context or {}).get("time", default)
        if isinstance(time, bool) or not isinstance(time, int | float):
            raise InvalidInput(f"context time {time!r} is not a number",
                               "give the request's time as unix seconds")
        # Requests hold times as int64 and subtract days from them: bound them first
        # (NaN fails this test too).
        if not 0 <= time <= LATEST_TIME:
            raise InvalidInput(f"context time {time!r} is not a unix time from 0 to "
                               f"{LATEST_TIME} (year 9999)",
                               "give the request's time as unix seconds, e.g. 1537000000")
        return int(time)

    def _fresh(self, spec: Canvas, user: str | int | None,
               recent: Sequence[tuple[str, int]]) -> list[tuple[int, int]]:
        """(dense item, time) of the recent events that can join the request's history."""
        if not spec.takes_user or user is None:
            return []
        index = self.vocabulary.item_index
        return [(index[str(i)], int(t)) for i, t in recent if str(i) in index]

    def _user(self, spec: Canvas, user: str | int | None) -> tuple[int | None, bool]:
        """(dense user id for the request, whether the answer is a cold start)."""
        if not spec.takes_user:
            return None, False
        if user is None:
            return None, True
        dense = self.vocabulary.user_index.get(str(user))
        if dense is None:  # outside the vocabulary: stands for "a user we never saw"
            return self.timeline.n_users, True
        return dense, not bool(self.known_users[dense])

    def _item(self, item: str | int | None) -> int:
        dense = self.vocabulary.item_index.get(str(item))
        if dense is None:
            raise NotFound(f"item {item!r} is not in the model's catalog",
                           "pass an item id the model was trained with (its catalog has "
                           f"{len(self.vocabulary.item_ids):,} items)")
        return dense

    def _category(self, category: str) -> int:
        """A category by name, in any case (``sci-fi`` is ``Sci-Fi``)."""
        folded = [name.casefold() for name in self.vocabulary.categories]
        try:
            return folded.index(category.casefold())
        except ValueError:
            raise InvalidInput(f"unknown category {category!r}",
                               f"use one of {', '.join(self.vocabulary.categories)}") from None

    # --- storing --------------------------------------------------------------------------

    def to_bundle(self) -> dict[str, Any]:
        return {"format": FORMAT, "config": self.net.config.to_dict(),
                "state": {k: v.detach().clone() for k, v in self.net.state_dict().items()},
                "vocabulary": self.vocabulary, "items": self.items, "timeline": self.timeline,
                "known_users": self.known_users, "encoder": self.encoder,
                "metrics": self.metrics}

    @classmethod
    def from_bundle(cls, bundle: Mapping[str, Any], model_version: str = "unregistered"
                    ) -> UnifiedRecommender:
        from reelgraph.recsys.model import ModelConfig, UnifiedNet

        if not isinstance(bundle, Mapping) or bundle.get("format") != FORMAT:
            raise InvalidInput("the stored value is not a unified recommender bundle",
                               f"load a value saved by UnifiedRecommender.save ({FORMAT})")
        try:
            net = UnifiedNet(ModelConfig(**bundle["config"]))
            net.load_state_dict(bundle["state"])
        except (TypeError, RuntimeError) as exc:  # another version of the network's code
            detail = " ".join(str(exc).split())[:300]
            raise Conflict(f"the stored recommender ({model_version}) does not fit this "
                           f"version of the model code: {detail}",
                           "retrain it with this code (`reelgraph recsys train`), or load it "
                           "with the reelgraph version that trained it") from None
        return cls(net.eval(), bundle["vocabulary"], bundle["items"], bundle["timeline"],
                   bundle["known_users"], bundle["encoder"], model_version,
                   bundle.get("metrics"))

    def save(self, store: ArtifactStore) -> ArtifactRef:
        return store.put(self.to_bundle(), label="unified recommender")

    @classmethod
    def load(cls, store: ArtifactStore, ref: ArtifactRef, model_version: str = "unregistered"
             ) -> UnifiedRecommender:
        return cls.from_bundle(store.get(ref), model_version)

    @classmethod
    def from_registry(cls, registry: ModelRegistry, name: str, stage: str | None = None,
                      version: int | None = None) -> UnifiedRecommender:
        """The registered version (by number, or the newest in ``stage``, default
        production)."""
        chosen = registry.version(name, version, stage)
        return cls.from_bundle(registry.ws.artifacts.get(chosen.artifact),
                               f"{name}@{chosen.version}")

    @property
    def canvases(self) -> tuple[str, ...]:
        return CANVAS_NAMES
