"""``/api/v1/recommend``: every canvas through one endpoint, hosted as configured.

``POST /api/v1/recommend`` takes a canvas name and whatever that canvas uses; the answer
names the model version and where it came from (online or nearline). An unknown canvas or
category, missing context, ``k`` out of range or an empty query is a 422 naming the
problem; an unknown item a 404; no deployed model a 503. The first request starts the
service, which then watches the registry and swaps in promoted versions.

``POST /api/v1/interactions`` logs what a member just did; their next request reflects it
(without retraining). A malformed interaction is a 422 and nothing is logged.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from reelgraph.api.auth import require_read, require_write
from reelgraph.api.deps import get_recommender, get_serving
from reelgraph.api.errors import error_body
from reelgraph.api.schemas.recommend import (
    DeploymentOut,
    InteractionIn,
    InteractionOut,
    RecommendIn,
    RecommendOut,
    TitlesOut,
)
from reelgraph.serving import RecommendationService

_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"description": "the item is not in the model's catalog"},
    422: {"description": "unknown canvas or category, missing context, k out of range, an "
                         "empty query, a canvas hosted offline",
          "content": {"application/json": {"example": error_body(
              "InvalidInput", "canvas 'category' needs a category",
              "pass category=... (category: a user's ranking of the items in a category)")}}},
    503: {"description": "no model version is deployed yet"},
}


router = APIRouter(prefix="/api/v1", tags=["recommend"],
                   dependencies=[Depends(require_read)], responses=_ERRORS)


@router.post("/recommend", response_model=RecommendOut,
             summary="Recommendations for any canvas (related, category, search, notifications)")
async def recommend(body: RecommendIn,
                    service: RecommendationService = Depends(get_recommender)) -> Response:
    # Scored in the thread pool, not on the event loop: scored on the loop, a request held
    # the loop for its whole scoring, so past saturation the loop could neither accept nor
    # refuse the next ones (they queued in the socket, unseen by the admission queue, for
    # seconds; issue 16). The hop costs tens of microseconds; the loop stays free to shed.
    served = await run_in_threadpool(
        service.recommend, body.canvas, user=body.user, item=body.item, query=body.query,
        category=body.category, k=body.k, context=body.context)
    # Our own dict, already in RecommendOut's shape: sent as is, not validated again.
    return JSONResponse(served.to_dict())


@router.post("/interactions", response_model=InteractionOut, status_code=201,
             dependencies=[Depends(require_write)],
             summary="Log an interaction; the member's next recommendations reflect it")
async def interactions(body: InteractionIn,
                       service: RecommendationService = Depends(get_serving)) -> dict[str, Any]:
    # Logged whether or not a model is deployed yet: the log outlives model versions.
    found = await run_in_threadpool(service.record, body.user, body.item, body.time,
                                    body.event, body.value)
    return found.to_dict()


@router.get("/recommend/deployment", response_model=DeploymentOut,
            summary="Which model version serves, and where each canvas is hosted")
async def deployment(service: RecommendationService = Depends(get_recommender)
                     ) -> dict[str, Any]:
    config = service.config
    deployed = service.deployed
    return {"model": config.model, "stage": config.stage,
            "version": deployed.version if deployed else None,
            "environments": {c: config.environment(c) for c in service.canvases},
            "swaps": len(service.swaps), "precomputed_at": service.precomputed_at}


MAX_TITLES = 1000  # items per titles request


@router.get("/recommend/titles", response_model=TitlesOut,
            summary="Titles of items in the serving model's catalog (to show an answer)")
async def titles(
    item: list[str] = Query(..., max_length=MAX_TITLES, description="an item id (repeatable)",
                            examples=["1"]),
    service: RecommendationService = Depends(get_recommender),
) -> dict[str, Any]:
    recommender = service.current.recommender
    vocabulary = recommender.vocabulary
    index = vocabulary.item_index
    return {"model_version": recommender.model_version,
            "titles": {i: vocabulary.titles[index[i]] if i in index else None for i in item}}
