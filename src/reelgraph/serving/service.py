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
that user's events since the model's cut-off and scores them into its history, without
retraining. The member's nearline answers are invalidated at once and recomputed with the
new events in the background (``refresh_member``); until then they are scored online. A
stored answer is served only when its basis (request time and events seen) is the
request's own, so an answer computed before a member's newest event is never served.

Hotfix hooks (``reelgraph.ops`` plugs them in): ``rules`` rewrite answers, ``switches``
serve a canvas from the popularity fallback or from stored answers only, and ``split``
sends a share of members to a candidate version (a canary, environment ``canary``).
"""

from __future__ import annotations

import logging
import queue
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
from reelgraph.recsys import canvas as canvas_spec
from reelgraph.serving import heap
from reelgraph.serving.config import BATCH, NEARLINE, ONLINE, ServingConfig
from reelgraph.serving.deployed import Deployed
from reelgraph.serving.deployments import record_deployment
from reelgraph.serving.hooks import (
    CANARY,
    FALLBACK,
    NEARLINE_ONLY,
    AnswerRules,
    CanvasSwitches,
    Impression,
    ImpressionSink,
    TrafficSplit,
    new_request_id,
)
from reelgraph.serving.nearline import NearlineStore, basis

Recent = list[tuple[str, int]]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Served:
    recommendations: Recommendations
    environment: str  # where it came from: online, nearline, fallback or canary
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
                 rules: AnswerRules | None = None, switches: CanvasSwitches | None = None,
                 split: TrafficSplit | None = None, settle_heap: bool = False) -> None:
        self.ws = ws
        # a long-running server freezes each loaded model out of the collector's full
        # passes (``heap``); off for embedded use, where the process owns its own heap
        self.settle_heap = settle_heap
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
        self.switches = switches
        self.split = split
        self._candidates: dict[int, Deployed] = {}  # canary versions, loaded once
        self._members: queue.Queue[str | None] = queue.Queue()  # to recompute nearline
        self._member_worker: threading.Thread | None = None

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
        if self.settle_heap:
            del previous, recommender, deployed  # so the old version can be collected
            heap.settle()
        if precompute:
            self.precompute()
        return swap

    # --- answering ------------------------------------------------------------------------

    def recommend(self, canvas: str, *, user: str | int | None = None,
                  item: str | int | None = None, query: str | None = None,
                  category: str | None = None, k: int = 10,
                  context: Mapping[str, Any] | None = None) -> Served:
        if self.impressions is None and self.rules is None and self.switches is None \
                and self.split is None:
            return self._answer(canvas, user, item, query, category, k, context)
        started, cpu_started = time.perf_counter(), time.thread_time()
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
            cpu_ms, latency_ms = _spent(started, cpu_started)
            self._log(Impression(request_id, canvas, inputs, dict(context or {}), None, None,
                                 None, (), (), latency_ms, False,
                                 f"{type(exc).__name__}: {exc}", cpu_ms=cpu_ms))
            raise
        answer = served.recommendations
        cpu_ms, latency_ms = _spent(started, cpu_started)
        self._log(Impression(
            request_id, canvas, inputs, dict(context or {}), answer.model_version,
            served.environment, served.fallback, tuple(i for i, _ in answer.items),
            tuple(s for _, s in answer.items), latency_ms, answer.cold_start, None, rules,
            cpu_ms))
        return served

    def _log(self, impression: Impression) -> None:
        if self.impressions is not None:
            self.impressions.record(impression)

    def _answer(self, canvas: str, user: str | int | None, item: str | int | None,
                query: str | None, category: str | None, k: int,
                context: Mapping[str, Any] | None) -> Served:
        deployed = self.current  # one version for the whole request
        switched = self.switches.environment(canvas) if self.switches is not None else None
        candidate = self._candidate(user) if switched is None else None
        chosen = candidate or deployed
        recent = self._recent(chosen, user)
        request = chosen.recommender.request(canvas, user=user, item=item, query=query,
                                             category=category, k=k, context=context,
                                             recent=recent)
        if candidate is not None:
            return Served(candidate.answer_online(request), CANARY)
        environment = self.config.environment(request.canvas.name)
        if switched is not None:
            return self._switched(deployed, request, recent, switched)
        if environment == BATCH:
            raise InvalidInput(
                f"canvas {request.canvas.name!r} is hosted offline (batch), not served",
                "read its scores from `reelgraph recsys batch` output, or host it online or "
                "nearline in serving.toml")
        fallback = None
        if environment == NEARLINE:
            served, fallback = self._from_nearline(deployed, request, recent)
            if served is not None:
                return served
        return Served(deployed.answer_online(request), ONLINE, None, fallback)

    def _recent(self, deployed: Deployed, user: str | int | None) -> Recent:
        return [] if user is None else [
            (e.item, e.time)
            for e in self.interactions.recent(user, since=deployed.recommender.now)]

    def _candidate(self, user: str | int | None) -> Deployed | None:
        """The canary version that answers this member, loaded at its first request."""
        version = self.split.version_for(None if user is None else str(user)) \
            if self.split is not None else None
        if version is None:
            return None
        if version not in self._candidates:
            with self._swap_lock:
                if version not in self._candidates:
                    self._candidates = {version: Deployed.of(UnifiedRecommender.from_registry(
                        self.registry, self.config.model, version=version), version)}
        return self._candidates[version]

    def _switched(self, deployed: Deployed, request: RecommendRequest, recent: Recent,
                  switched: str) -> Served:
        """A canvas a hotfix took off its environment: stored answers (any age) when it is
        nearline-only and one is stored, else the allowed items by popularity."""
        if switched == NEARLINE_ONLY and deployed.version is not None:
            found = self.nearline.read(deployed.version, request.canvas.name, request.key)
            if found is not None:
                answer = Recommendations(request.canvas.name, tuple(found.items[:request.k]),
                                         deployed.model_version, False)
                return Served(answer, NEARLINE, found.computed_at,
                              "switched to nearline-only by a hotfix")
        return Served(deployed.answer_popular(request), FALLBACK, None,
                      f"switched to {switched} by a hotfix")

    def _from_nearline(self, deployed: Deployed, request: RecommendRequest, recent: Recent
                       ) -> tuple[Served | None, str]:
        if request.cold_start:
            return None, "cold start: no precomputed answer for a new user"
        if deployed.version is None:
            return None, "an unregistered model has no precomputed answers"
        found = self.nearline.read(deployed.version, request.canvas.name, request.key)
        if found is None:
            return None, "not precomputed yet"
        if found.basis != basis(request.time, recent):
            if request.timeline is not None:
                return None, "interactions since the model's cut-off are scored online"
            return None, "a request at another time is scored online"
        if time.time() - found.computed_at > self.config.max_age_s:
            return None, "the precomputed answer is stale"
        if request.k > self.config.nearline_k:
            return None, f"k above the {self.config.nearline_k} precomputed items"
        answer = Recommendations(request.canvas.name, tuple(found.items[:request.k]),
                                 deployed.model_version, False)
        return Served(answer, NEARLINE, found.computed_at), ""

    def record(self, user: str | int, item: str | int, time: int | float | None = None,
               event: str = "interaction", value: float | None = None) -> Interaction:
        """Log what a member just did (``time``: default now); their next request sees it,
        and their nearline answers are recomputed with it in the background."""
        found = self.interactions.append(user, item, time, event, value)
        self.refresh_member(found.user)
        return found

    def refresh_member(self, user: str, wait: bool = False) -> None:
        """Invalidate the member's nearline answers of the serving version now and recompute
        them in the background (``wait``: here, before returning)."""
        deployed = self._current
        if deployed is None or deployed.version is None:
            return
        recommender = deployed.recommender
        for name in self.config.canvases_in(NEARLINE):
            spec = canvas_spec(name)
            if not spec.takes_user:
                continue
            keys = [f"{user}/{c}" for c in recommender.vocabulary.categories] \
                if spec.within_category else [user]
            self.nearline.remove(deployed.version, name, keys)
        if wait:
            self.recompute_members([user])
            return
        self._members.put(user)
        if self._member_worker is None:
            with self._swap_lock:
                if self._member_worker is None:
                    self._member_worker = threading.Thread(
                        target=self._recompute_queued, name="reelgraph-nearline-members",
                        daemon=True)
                    self._member_worker.start()

    def _recompute_queued(self) -> None:
        while (user := self._members.get()) is not None:
            try:
                self.recompute_members([user])
            except Exception:  # the member is scored online meanwhile; say why in the log
                log.exception("nearline: recomputing %s failed", user)
            finally:
                self._members.task_done()
        self._members.task_done()

    def settle(self) -> None:
        """Wait until every queued member's nearline answers are recomputed."""
        if self._member_worker is not None:
            self._members.join()

    def recompute_members(self, users: Sequence[str], canvases: Sequence[str] | None = None,
                          progress: Callable[[str, int, int], None] | None = None
                          ) -> dict[str, int]:
        """Recompute the members' nearline answers with their events since the model's
        cut-off (each stamped with the basis a request of theirs will have). Members the
        model does not know are skipped (they get cold-start answers online)."""
        deployed = self.current
        if deployed.version is None:
            raise InvalidInput("an unregistered model cannot be precomputed",
                               "register the model and serve it from the registry")
        recommender = deployed.recommender
        chosen = tuple(canvases) if canvases is not None else self.config.canvases_in(NEARLINE)
        stored = dict.fromkeys(chosen, 0)
        for name in chosen:
            spec = canvas_spec(name)
            if not spec.takes_user:
                continue
            categories = recommender.vocabulary.categories if spec.within_category else (None,)
            for done, user in enumerate(users, start=1):
                started = time.time()
                recent = self._recent(deployed, user)
                answers: dict[str, list[tuple[str, float]]] = {}
                bases: dict[str, str] = {}
                for category in categories:
                    request = recommender.request(name, user=user, category=category,
                                                  k=self.config.nearline_k, recent=recent)
                    if request.cold_start:
                        break
                    answers[request.key] = list(deployed.answer_online(request).items)
                    bases[request.key] = basis(request.time, recent)
                self.nearline.put(deployed.version, name, answers, bases, started)
                stored[name] += len(answers)
                if progress is not None:
                    progress(name, done, len(users))
        return stored

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
            at_basis = basis(deployed.recommender.now)
            for batch in deployed.recommender.score_targets(found, self.config.nearline_k):
                members = self.nearline.write(deployed.version, canvas, batch, at_basis)
                if members:
                    self.recompute_members(sorted(members), [canvas])
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
        if self._member_worker is not None:
            self._members.put(None)
            self._member_worker.join()
            self._member_worker = None
        self.interactions.close()
        if self._owns_online:
            self.online.close()
        if self.settle_heap:
            heap.release()


def _spent(started: float, cpu_started: float) -> tuple[float, float]:
    """(CPU ms of this thread, wall ms) since the request began: the CPU interval inside
    the wall one, so a request's CPU never exceeds its latency."""
    cpu = time.thread_time() - cpu_started
    return cpu * 1e3, (time.perf_counter() - started) * 1e3
