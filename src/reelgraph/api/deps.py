"""What one application holds, opened once, and the dependencies that hand it to routers.

``create_app`` makes one ``Services`` over the settings and the graph; the workspace (the
graph's metadata database, run records, artifacts) and each service over it (registry,
event log, feature and media catalogs, the recommender) is opened once, at its first use
or, for the recommender of a real server, at startup, and the lifespan closes them all.
Routers only declare dependencies (``Depends(get_registry)``): they keep no lock, singleton
or close function of their own, and never import one another.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar, cast

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from reelgraph.artifacts import ArtifactStore
from reelgraph.core import Settings
from reelgraph.features import FeatureCatalog, feature_files_from_env
from reelgraph.flows import EventLog, ModelRegistry, RunStore, Workspace
from reelgraph.graph import Graph
from reelgraph.media import MediaCatalog
from reelgraph.ops import ImpressionLog, Overlay, RecSysOps
from reelgraph.serving import RecommendationService, ServingConfig

T = TypeVar("T")


class Services:
    """The settings, the graph and every service the routers use, each opened once."""

    def __init__(self, settings: Settings, graph: Graph, *, owns_graph: bool,
                 feature_files: Sequence[str | Path] | None = None,
                 serving: ServingConfig | None = None) -> None:
        self.settings = settings
        self.graph = graph
        self.owns_graph = owns_graph  # opened by the app (closed with it) or the caller's
        self._feature_files = list(feature_files) if feature_files is not None else None
        self._serving = serving
        self._lock = threading.RLock()  # re-entrant: a service may open the ones it needs
        self._opened: dict[str, Any] = {}
        self._closers: list[Callable[[], None]] = []

    def _once(self, name: str, open_: Callable[[], T], close: Callable[[T], None]) -> T:
        with self._lock:
            if name not in self._opened:
                value = open_()  # a failure caches nothing: the next request tries again
                self._opened[name] = value
                self._closers.append(lambda: close(value))
            return cast(T, self._opened[name])

    @property
    def workspace(self) -> Workspace:
        def open_() -> Workspace:
            database = self.graph.store.database  # tests inject a graph of their own
            return Workspace(self.settings, database, self.graph, RunStore(database),
                             ArtifactStore(self.settings.artifacts))

        # The graph is closed by ``close`` (when the app owns it), not with the workspace.
        return self._once("workspace", open_, lambda ws: ws.runs.close())

    @property
    def registry(self) -> ModelRegistry:
        return self._once("registry", lambda: ModelRegistry(self.workspace), lambda _: None)

    @property
    def events(self) -> EventLog:
        return self._once("events", lambda: EventLog(self.workspace), EventLog.close)

    @property
    def features(self) -> FeatureCatalog:
        """The served feature definitions: ``create_app(feature_files=...)``, else
        ``REELGRAPH_FEATURE_FILES``."""
        files = self._feature_files
        return self._once(
            "features",
            lambda: FeatureCatalog.open(self.workspace,
                                        files if files is not None else feature_files_from_env()),
            FeatureCatalog.close)

    @property
    def media(self) -> MediaCatalog:
        return self._once("media", lambda: MediaCatalog(self.workspace),
                          MediaCatalog.close)

    @property
    def recommender(self) -> RecommendationService:
        """The recommendation service, watching the registry from its first use, with
        RecSysOps plugged in: every answer logged as an impression, and the overlay's
        rules, canvas switches and canary split applied."""
        def open_() -> RecommendationService:
            overlay = self.overlay
            service = RecommendationService(
                self.workspace, self._serving, impressions=self.impressions, rules=overlay,
                switches=overlay, split=overlay, settle_heap=self.owns_graph)
            service.start()
            return service

        return self._once("recommender", open_, RecommendationService.close)

    @property
    def overlay(self) -> Overlay:
        """RecSysOps' rules, switches and canary as serving applies them (re-read every few
        seconds; at once after a write through this server)."""
        return self._once("overlay", lambda: Overlay(self.ops.store), lambda _: None)

    @property
    def impressions(self) -> ImpressionLog:
        """The impression log answers are recorded in (written off the request path)."""
        root = self.ops.impressions_root
        assert root is not None
        return self._once("impressions", lambda: ImpressionLog(root), ImpressionLog.close)

    @property
    def ops(self) -> RecSysOps:
        """RecSysOps (monitors, incidents, replay, hotfixes) over the workspace."""
        return self._once("ops", lambda: RecSysOps(self.workspace), lambda _: None)

    def close(self) -> None:
        """Close every opened service, newest first, then the graph if the app opened it."""
        with self._lock:
            closers, self._closers = self._closers, []
            self._opened.clear()
        for close in reversed(closers):
            close()
        if self.owns_graph:
            self.graph.close()


def services(request: Request) -> Services:
    found: Services = request.app.state.reelgraph
    return found


def get_settings(request: Request) -> Settings:
    return services(request).settings


def get_graph(request: Request) -> Graph:
    return services(request).graph


def get_workspace(request: Request) -> Workspace:
    """The application's one workspace (graph, run records, artifacts)."""
    return services(request).workspace


def get_runs(request: Request) -> RunStore:
    return services(request).workspace.runs


def get_events(request: Request) -> EventLog:
    return services(request).events


def get_registry(request: Request) -> ModelRegistry:
    return services(request).registry


def get_feature_catalog(request: Request) -> FeatureCatalog:
    return services(request).features


def get_media_catalog(request: Request) -> MediaCatalog:
    return services(request).media


def get_ops(request: Request) -> RecSysOps:
    return services(request).ops


def get_overlay(request: Request) -> Overlay:
    return services(request).overlay


def get_serving(request: Request) -> RecommendationService:
    """The recommendation service as it is (it may have no model deployed yet)."""
    return services(request).recommender


async def get_recommender(request: Request) -> RecommendationService:
    service = services(request).recommender
    if service.deployed is None:  # nothing yet: look now rather than at the next watch
        # (loading takes seconds: off the event loop; the watcher precomputes)
        await run_in_threadpool(service.refresh, False)
    return service
