"""``/api/v1/features``: feature definitions, online reads, nearest neighbours, memoized
compute and replica checks.

Definitions come from the graph, so reads work on what is stored; computing needs the code,
which the server loads from the feature files given to ``create_app(feature_files=...)`` or
named in ``REELGRAPH_FEATURE_FILES`` (colon-separated). The catalog is the app's
(``api/deps.py``).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Depends, Query

from reelgraph.api.auth import require_read, require_write
from reelgraph.api.deps import get_feature_catalog
from reelgraph.api.errors import error_body
from reelgraph.api.schemas.features import (
    FEATURE,
    ComputeOut,
    ComputeRequest,
    FeatureList,
    FeatureOut,
    NeighborList,
    NeighborQuery,
    OnlineValues,
    RequestBody,
    RequestOut,
    VerifyOut,
)
from reelgraph.features import MAX_NEIGHBORS, FeatureCatalog, ResolvedFeature, jsonable

Json = dict[str, Any]

_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"description": "no such feature, version or entity", "content": {"application/json": {
        "example": error_body("UnknownFeature", "no feature movielens/genre is registered",
                              f"use one of ['{FEATURE}']")}}},
    409: {"description": "the feature lacks what the request needs (its code, a replica)"},
    422: {"description": "a bad key, vector or k", "content": {"application/json": {
        "example": error_body("InvalidInput", "the query vector has 3 numbers, not 4",
                              "send a vector of 4 floats")}}},
}

Version = Query(None, description="a version (default: the loaded definition's, else the "
                "newest registered)")


def _feature(namespace: str, name: str, version: str | None,
             catalog: FeatureCatalog) -> ResolvedFeature:
    return catalog.resolve(f"{namespace}/{name}", version)


router = APIRouter(prefix="/api/v1/features", tags=["features"],
                   dependencies=[Depends(require_read)], responses=_ERRORS)


@router.get("", response_model=FeatureList, summary="Feature definitions, with their versions")
def list_features(
    namespace: str | None = Query(None, description="only this namespace"),
    catalog: FeatureCatalog = Depends(get_feature_catalog),
) -> Json:
    return {"features": catalog.features(namespace)}


@router.get("/{namespace}/{name}", response_model=FeatureOut, summary="One feature version")
def show_feature(namespace: str, name: str, version: str | None = Version,
                 catalog: FeatureCatalog = Depends(get_feature_catalog)) -> Json:
    return catalog.describe(_feature(namespace, name, version, catalog))


@router.get("/{namespace}/{name}/online", response_model=OnlineValues,
            summary="Latest values by entity key, from the online replica")
def online_values(
    namespace: str, name: str,
    key: list[str] = Query(..., description="an entity key (repeatable)", examples=["1"]),
    version: str | None = Version,
    catalog: FeatureCatalog = Depends(get_feature_catalog),
) -> Json:
    feature = _feature(namespace, name, version, catalog)
    source, values = catalog.online(feature, key)
    return {"feature": feature.ref.uri, "source": source,
            "values": {k: jsonable(v) for k, v in values.items()},
            "missing": [k for k in feature.keys(key) if k not in values]}


def _neighbors(feature: ResolvedFeature, catalog: FeatureCatalog, k: int,
               vector: list[float] | None, key: Any) -> Json:
    hits = catalog.neighbors(feature, k, vector=vector, key=key)
    return {"feature": feature.ref.uri,
            "neighbors": [{"key": hit, "score": score} for hit, score in hits]}


@router.get("/{namespace}/{name}/neighbors", response_model=NeighborList,
            summary="Nearest neighbours of an entity, by its own vector")
def entity_neighbors(
    namespace: str, name: str,
    key: str = Query(..., description="the entity whose vector is the query"),
    k: int = Query(10, description=f"how many, 1 to {MAX_NEIGHBORS}"),
    version: str | None = Version,
    catalog: FeatureCatalog = Depends(get_feature_catalog),
) -> Json:
    return _neighbors(_feature(namespace, name, version, catalog), catalog, k, None, key)


@router.post("/{namespace}/{name}/neighbors", response_model=NeighborList,
             summary="Nearest neighbours of a vector (or of an entity's vector)")
def vector_neighbors(namespace: str, name: str, query: NeighborQuery = Body(...),
                     catalog: FeatureCatalog = Depends(get_feature_catalog)) -> Json:
    feature = _feature(namespace, name, query.version, catalog)
    return _neighbors(feature, catalog, query.k, query.vector, query.key)


@router.post("/{namespace}/{name}/compute", response_model=ComputeOut,
             dependencies=[Depends(require_write)],
             summary="Values of the entities, computing only the missing ones (memoized)")
def compute(namespace: str, name: str, body: ComputeRequest = Body(...),
            catalog: FeatureCatalog = Depends(get_feature_catalog)) -> Json:
    feature = _feature(namespace, name, body.version, catalog)
    definition = catalog.definition(feature)
    keys = feature.keys(body.entities)  # checked before anything is claimed or computed
    report = catalog.store.get_or_compute(definition, keys)
    values = ({k: jsonable(v) for k, v in report.values.items()} if body.include_values
              else None)
    return {"feature": report.feature, "reused": report.reused, "computed": report.computed,
            "waited": report.waited, "failed": report.failed, "run_ids": report.run_ids,
            "values": values}


@router.post("/{namespace}/{name}/requests", response_model=RequestOut, status_code=202,
             dependencies=[Depends(require_write)],
             summary="Queue the missing values for a feature worker; returns at once")
def request_values(namespace: str, name: str, body: RequestBody = Body(...),
                   catalog: FeatureCatalog = Depends(get_feature_catalog)) -> Json:
    feature = _feature(namespace, name, body.version, catalog)
    queued = catalog.store.request(feature.ref, feature.keys(body.entities))
    return {"feature": feature.ref.uri, "queued": queued}


@router.post("/{namespace}/{name}/verify", response_model=VerifyOut,
             summary="Compare each replica with the offline store (changes nothing)")
def verify(namespace: str, name: str, version: str | None = Version,
           catalog: FeatureCatalog = Depends(get_feature_catalog)) -> Json:
    return catalog.verify(_feature(namespace, name, version, catalog)).to_dict()


@router.post("/{namespace}/{name}/sync", response_model=VerifyOut,
             dependencies=[Depends(require_write)],
             summary="Make each replica equal to the offline store; returns what differed")
def sync(namespace: str, name: str, version: str | None = Version,
         catalog: FeatureCatalog = Depends(get_feature_catalog)) -> Json:
    return catalog.sync(_feature(namespace, name, version, catalog)).to_dict()
