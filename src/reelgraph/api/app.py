"""The application factory: ``uvicorn --factory reelgraph.api:create_app``.

One ``Services`` per application (``api/deps.py``): the graph is opened from the settings and
closed when the server stops (tests inject their own ``Graph`` and close it themselves); every
other service is opened once and closed with the app.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI

from reelgraph.api.deps import Services
from reelgraph.api.docs import install_docs
from reelgraph.api.errors import install_error_handlers
from reelgraph.api.limits import RequestLimits
from reelgraph.api.openapi import honest_openapi
from reelgraph.api.routers import features as features_router
from reelgraph.api.routers import graph as graph_router
from reelgraph.api.routers import matchcut as matchcut_router
from reelgraph.api.routers import media as media_router
from reelgraph.api.routers import ops as ops_router
from reelgraph.api.routers import recommend as recommend_router
from reelgraph.api.routers import registry as registry_router
from reelgraph.api.routers import runs as runs_router
from reelgraph.core import Settings
from reelgraph.graph import Graph
from reelgraph.serving import ServingConfig

# Mounted in this order: a new router is its import above and one line here.
ROUTERS = (
    graph_router.router,
    registry_router.router,
    runs_router.router,
    features_router.router,
    media_router.router,
    matchcut_router.router,
    recommend_router.router,
    ops_router.router,
)

DESCRIPTION = """\
The reelgraph model lifecycle graph over HTTP.

* Node URIs look like `rg://model/personalization/unified-ranker@3`; pass them as the `uri`
  query parameter (URL-encoded).
* `as_of` takes an ISO-8601 time with a zone (`2026-11-23T10:00:00Z`) and answers as of then.
* Times in answers are integer microseconds since the epoch (UTC), each with its ISO-8601
  twin beside it: `created_at` and `created_at_iso`, `valid_from` and `valid_from_iso`, ...
* Media assets are named by their sha256 in paths (`/api/v1/media/{sha256}`) or by URI
  (`/api/v1/media/asset?uri=rg://media_asset/studio/...`); times are integer nanoseconds.
* `POST /api/v1/recommend` answers every canvas (related, category, search, notifications)
  from the production version of the unified recommender, online or precomputed (nearline).
* Writes need `Authorization: Bearer <REELGRAPH_API_TOKEN>`; reads too unless `open_reads`.
* Limits (docs/security.md): bodies past `max_body_bytes` get 413 unread; past
  `max_in_flight` requests at once the next wait at most `max_queue_seconds`, then (or at
  once while that queue stands) the server answers 503 with `Retry-After`; a request that
  needs the token is refused from its headers, before its body is read.
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
    services = Services(settings, graph or Graph.open(settings.metadata_url),
                        owns_graph=graph is None, feature_files=feature_files, serving=serving)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if services.owns_graph:  # a real server: load the recommender before any request
            services.recommender  # noqa: B018 (opened for its side effect)
        try:
            yield
        finally:
            services.close()

    app = FastAPI(
        title="reelgraph",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # served by install_docs from the package, not a CDN
        redoc_url=None,
    )
    app.state.reelgraph = services
    install_error_handlers(app)
    app.add_middleware(RequestLimits, settings=settings)
    app.openapi = honest_openapi(app, settings)  # type: ignore[method-assign]
    install_docs(app)
    for router in ROUTERS:
        app.include_router(router)
    return app
