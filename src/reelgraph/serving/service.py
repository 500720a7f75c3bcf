"""The recommendation service: one canvas-agnostic ``recommend``, hosted per configuration.

    service = RecommendationService(workspace)   # serves the model's production version
    service.refresh()                            # swap in the newest production version
    service.recommend("category", user="42", category="Comedy", k=10)
    service.record("42", "1210", time=1700000000)  # the next answer for 42 reflects it
    service.start()                              # watch for promotions, refresh nearline

Hot swap: a new version is loaded and indexed beside the serving one, then replaces it by
one reference assignment; a request takes that reference once when it starts, so requests
in flight finish on the old version and none is dropped. Nearline answers are then
recomputed for the new version (until they are, its requests are scored online).

Freshness: ``record`` appends to the ``InteractionLog``; every request with a user reads
that user's events since the model's cut-off and scores them into its history, online (a
precomputed answer predates them, so it is not served), without retraining.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from reelgraph.core import InvalidInput, NotFound, Unavailable
from reelgraph.features import OnlineStore, open_online_store
from reelgraph.flows import ModelRegistry, Workspace
from reelgraph.recsys import (
    CANVAS_NAMES,
    Interaction,
    InteractionLog,
    Recommendations,
    RecommendRequest,
    UnifiedRecommender,
)
from reelgraph.serving.config import BATCH, NEARLINE, ONLINE, ServingConfig
from reelgraph.serving.deployed import Deployed
from reelgraph.serving.deployments import record_deployment
from reelgraph.serving.hooks import AnswerRules, Impression, ImpressionSink, new_request_id
from reelgraph.serving.nearline import NearlineStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Served:
    recommendations: Recommendations
    environment: str  # where the answer came from: online or nearline
    computed_at: float | None = None  # nearline: when it was precomputed (unix seconds)
    fallback: str | None = None  # why a nearline canvas was scored online instead
    request_id: str = ""  # names the request in the impression log (``hooks``)

    def to_dict(self) -> dict[str, Any]:
        return {**self.recommendations.to_dict(), "environment": self.environment,
                "computed_at": self.computed_at, "fallback": self.fallback,
                "request_id": self.request_id}


@dataclass(frozen=True)
class Swap:
    version: int
    previous: int | None
    seconds: float  # loading and indexing, off the request path


class RecommendationService:
    def __init__(self, ws: Workspace, config: ServingConfig | None = None,
                 online: OnlineStore | None = None, impressions: ImpressionSink | None = None,
                 rules: AnswerRules | None = None) -> None:
        self.ws = ws
        self.config = config or ServingConfig.load(ws.settings)
        UnifiedRecommender.limit_compute_threads(self.config.compute_threads)
        self.registry = ModelRegistry(ws)
        self._owns_online = online is None
        self.online = online or open_online_store(self.config.online_store, ws.settings)
        self.nearline = NearlineStore(self.online, self.config.model)
        self.interactions = InteractionLog(ws)
        self._current: Deployed | None = None
        self._swap_lock = threading.Lock()
        self._stop = threading.Event()
        self._watcher: threading.Thread | None = None
        self.swaps: list[Swap] = []
        self.precomputed_at: float | None = None
        self.impressions = impressions  # hooks an operator plugs in (reelgraph.ops)
        self.rules = rules

    # --- which version serves ---------------------------------------------------------------

    @property
    def deployed(self) -> Deployed | None:
        """The version serving now, if any."""
        return self._current

    @property
    def canvases(self) -> tuple[str, ...]:
        return CANVAS_NAMES

    @property
    def current(self) -> Deployed:
        deployed = self._current
        if deployed is None:
            raise Unavailable(
                f"no version of {self.config.model} is deployed: none is in stage "
                f"{self.config.stage!r}",
                "train and promote one (`reelgraph recsys train --promote`), then retry")
        return deployed

    def refresh(self, precompute: bool = True, force: bool = False) -> Swap | None:
        """Swap in the newest version in the configured stage if another one is serving
        (then precompute its nearline canvases). None when nothing changed. ``force``:
        load and index the version again even if it is serving (a redeploy)."""
        try:
            chosen = self.registry.version(self.config.model, None, self.config.stage)
        except NotFound:
            return None
        with self._swap_lock:
            previous = self._current
            if previous is not None and previous.version == chosen.version and not force:
                return None
            started = time.perf_counter()
            recommender = UnifiedRecommender.from_registry(self.registry, chosen.model,
                                                           version=chosen.version)
            deployed = Deployed.of(recommender, chosen.version)
            self._current = deployed  # the swap: requests that start now get the new one
            swap = Swap(chosen.version, previous.version if previous else None,
                        time.perf_counter() - started)
            self.swaps.append(swap)
        record_deployment(self.ws.graph, self.config, chosen.version,
                          previous.version if previous else None)
        log.info("serving %s@%s (was %s)", chosen.model, chosen.version, swap.previous)
        if precompute:
            self.precompute()
        return swap

    # --- answering ------------------------------------------------------------------------

    def recommend(self, canvas: str, *, user: str | int | None = None,
                  item: str | int | None = None, query: str | None = None,
                  category: str | None = None, k: int = 10,
                  context: Mapping[str, Any] | None = None) -> Served:
        if self.impressions is None and self.rules is None:
            return self._answer(canvas, user, item, query, category, k, context)
        started = time.perf_counter()
        inputs = {"user": user, "item": item, "query": query, "category": category, "k": k}
        request_id = new_request_id()
        try:
            served = self._answer(canvas, user, item, query, category, k, context)
            rules: tuple[str, ...] = ()
            if self.rules is not None:
                items, rules = self.rules.apply(canvas, served.recommendations.items, k)
                served = replace(served, recommendations=replace(served.recommendations,
                                                                 items=items))
            served = replace(served, request_id=request_id)
        except Exception as exc:
            self._log(Impression(request_id, canvas, inputs, dict(context or {}), None, None,
                                 None, (), (), (time.perf_counter() - started) * 1e3, False,
                                 f"{type(exc).__name__}: {exc}"))
            raise
        answer = served.recommendations
        self._log(Impression(
            request_id, canvas, inputs, dict(context or {}), answer.model_version,
            served.environment, served.fallback, tuple(i for i, _ in answer.items),
            tuple(s for _, s in answer.items), (time.perf_counter() - started) * 1e3,
            answer.cold_start, None, rules))
        return served

    def _log(self, impression: Impression) -> None:
        if self.impressions is not None:
            self.impressions.record(impression)

    def _answer(self, canvas: str, user: str | int | None, item: str | int | None,
                query: str | None, category: str | None, k: int,
                context: Mapping[str, Any] | None) -> Served:
        deployed = self.current  # one version for the whole request
        recent = [] if user is None else [
            (e.item, e.time)
            for e in self.interactions.recent(user, since=deployed.recommender.now)]
        request = deployed.recommender.request(canvas, user=user, item=item, query=query,
                                               category=category, k=k, context=context,
                                               recent=recent)
        environment = self.config.environment(request.canvas.name)
        if environment == BATCH:
            raise InvalidInput(
                f"canvas {request.canvas.name!r} is hosted offline (batch), not served",
                "read its scores from `reelgraph recsys batch` output, or host it online or "
                "nearline in serving.toml")
        fallback = None
        if environment == NEARLINE:
            served, fallback = self._from_nearline(deployed, request)
            if served is not None:
                return served
        return Served(deployed.answer_online(request), ONLINE, None, fallback)

    def _from_nearline(self, deployed: Deployed, request: RecommendRequest
                       ) -> tuple[Served | None, str]:
        if request.timeline is not None:
            return None, "interactions since the model's cut-off are scored online"
        if request.cold_start:
            return None, "cold start: no precomputed answer for a new user"
        if deployed.version is None or request.time != deployed.recommender.now:
            return None, "a request at another time is scored online"
        found = self.nearline.read(deployed.version, request.canvas.name, request.key)
        if found is None:
            return None, "not precomputed yet"
        if time.time() - found.computed_at > self.config.max_age_s:
            return None, "the precomputed answer is stale"
        if request.k > self.config.nearline_k:
            return None, f"k above the {self.config.nearline_k} precomputed items"
        answer = Recommendations(request.canvas.name, tuple(found.items[:request.k]),
                                 deployed.model_version, False)
        return Served(answer, NEARLINE, found.computed_at), ""

    def record(self, user: str | int, item: str | int, time: int | float | None = None,
               event: str = "interaction", value: float | None = None) -> Interaction:
        """Log what a member just did (``time``: default now); their next request sees it."""
        return self.interactions.append(user, item, time, event, value)

    # --- nearline -------------------------------------------------------------------------

    def precompute(self, canvases: Sequence[str] | None = None,
                   users: Sequence[str] | None = None,
                   progress: Callable[[str, int, int], None] | None = None,
                   skip_fresh: bool = False) -> dict[str, int]:
        """Recompute the nearline canvases' answers for the serving version (``users``:
        only theirs; ``skip_fresh``: not a canvas whose every answer is stored and fresh).
        Returns how many answers each canvas stored."""
        deployed = self.current
        if deployed.version is None:
            raise InvalidInput("an unregistered model cannot be precomputed",
                               "register the model and serve it from the registry")
        chosen = tuple(canvases) if canvases is not None else self.config.canvases_in(NEARLINE)
        stored: dict[str, int] = {}
        for canvas in chosen:
            found = deployed.recommender.targets(canvas, users)
            stored[canvas] = 0
            if skip_fresh and self._all_fresh(deployed.version, canvas, len(found)):
                continue
            for batch in deployed.recommender.score_targets(found, self.config.nearline_k):
                self.nearline.write(deployed.version, canvas, batch)
                stored[canvas] += len(batch.keys)
                if progress is not None:
                    progress(canvas, stored[canvas], len(found))
        self.precomputed_at = time.time()
        return stored

    def _all_fresh(self, version: int, canvas: str, wanted: int) -> bool:
        count, oldest = self.nearline.freshness(version, canvas)
        return count >= wanted and oldest is not None and (
            time.time() - oldest <= self.config.max_age_s)

    # --- watching -------------------------------------------------------------------------

    def start(self) -> None:
        """Watch the registry every ``watch_s`` seconds (swap in promotions) and recompute
        nearline answers before they go stale (every half ``max_age_s``)."""
        if self._watcher is not None:
            return
        self._stop.clear()
        self._watcher = threading.Thread(target=self._watch, name="reelgraph-serving-watch",
                                         daemon=True)
        self._watcher.start()

    def _watch(self) -> None:
        while not self._stop.is_set():
            try:
                swapped = self.refresh()
                due = self.precomputed_at is None or (
                    time.time() - self.precomputed_at > self.config.max_age_s / 2)
                if swapped is None and self._current is not None and due:
                    self.precompute()
            except Exception:  # keep serving the current version; say why in the log
                log.exception("serving watcher: refresh failed")
            self._stop.wait(self.config.watch_s)

    def stop(self) -> None:
        self._stop.set()
        if self._watcher is not None:
            self._watcher.join()
            self._watcher = None

    def close(self) -> None:
        self.stop()
        self.interactions.close()
        if self._owns_online:
            self.online.close()
