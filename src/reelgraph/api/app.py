"""The application factory: ``uvicorn --factory reelgraph.api:create_app``.

One graph is opened per application, from the settings, and closed when the server stops;
tests inject their own ``Graph`` (which they then close themselves).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI

from reelgraph.api.errors import install_error_handlers
from reelgraph.api.limits import RequestLimits
from reelgraph.api.openapi import honest_openapi
from reelgraph.api.routers import features as features_router
from reelgraph.api.routers import graph as graph_router
from reelgraph.api.routers import media as media_router
from reelgraph.api.routers import recommend as recommend_router
from reelgraph.api.routers import registry as registry_router
from reelgraph.api.routers import runs as runs_router
from reelgraph.api.state import ApiState
from reelgraph.core.settings import Settings
from reelgraph.graph import Graph
from reelgraph.serving import ServingConfig

DESCRIPTION = """\
The reelgraph model lifecycle graph over HTTP.

* Node URIs look like `rg://model/personalization/unified-ranker@3`; pass them as the `uri`
  query parameter (URL-encoded).
* `as_of` takes an ISO-8601 time with a zone (`2026-11-23T10:00:00Z`) and answers as of then.
* Media assets are named by their sha256 in paths (`/api/v1/media/{sha256}`) or by URI
  (`/api/v1/media/asset?uri=rg://media_asset/studio/...`); times are integer nanoseconds.
* `POST /api/v1/recommend` answers every canvas (related, category, search, notifications)
  from the production version of the unified recommender, online or precomputed (nearline).
* Writes need `Authorization: Bearer <REELGRAPH_API_TOKEN>`; reads too unless `open_reads`.
* Limits (docs/security.md): bodies past `max_body_bytes` get 413 unread; past
  `max_in_flight` concurrent requests the server answers 503 with `Retry-After`; a request
  that needs the token is refused from its headers, before its body is read.
* `/openapi.json` and `/docs` are always open: they describe the API, never data.
* Every error is a JSON body `{"error", "problem", "fix"}` with a 4xx status (503 while no
  model is deployed to answer), and a refused write stores nothing.
"""


def create_app(settings: Settings | None = None, graph: Graph | None = None,
               feature_files: Sequence[str | Path] | None = None,
               serving: ServingConfig | None = None) -> FastAPI:
    """``feature_files``: the feature definitions to serve (default: REELGRAPH_FEATURE_FILES);
    ``serving``: how recommendations are hosted (default: ``$REELGRAPH_HOME/serving.toml``)."""
    settings = settings or Settings.load()
    state = ApiState(
        settings=settings,
        graph=graph or Graph.open(settings=settings),
        owns_graph=graph is None,
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if state.owns_graph:  # a real server: load the recommender before any request
            recommend_router.service_of(_app)
        yield
        recommend_router.close_service(_app)
        registry_router.close_registry(_app)
        runs_router.close_stores(_app)
        features_router.close_catalog(_app)
        media_router.close_catalog(_app)
        if state.owns_graph:
            state.graph.close()

    app = FastAPI(
        title="reelgraph",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.reelgraph = state
    app.state.reelgraph_feature_files = (list(feature_files) if feature_files is not None
                                         else None)
    app.state.reelgraph_serving_config = serving
    install_error_handlers(app)
    app.add_middleware(RequestLimits, settings=settings)
    app.openapi = honest_openapi(app, settings)  # type: ignore[method-assign]
    app.include_router(graph_router.router)
    app.include_router(registry_router.router)
    app.include_router(runs_router.router)
    app.include_router(features_router.router)
    app.include_router(media_router.router)
    app.include_router(recommend_router.router)
    return app
