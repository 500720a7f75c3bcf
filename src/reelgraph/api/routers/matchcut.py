"""``/api/v1/matchcut``: find match cuts among registered assets, list and review the ranked
pairs, a pair's transition preview (MP4) and the accepted pairs as an OpenTimelineIO
timeline.

Titles are named by registered assets (sha256 or ``rg://media_asset/...`` URI), never by
server paths (register files with ``POST /api/v1/media``). A title that fails (no shots, an
unreadable file) is reported in ``failed``; the others are still processed.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any, Literal

from fastapi import APIRouter, Body, Depends, Query, Response
from pydantic import BaseModel, Field

from reelgraph.api.auth import require_read, require_write
from reelgraph.api.deps import get_workspace
from reelgraph.api.errors import error_body
from reelgraph.core import InvalidInput, ReelgraphError
from reelgraph.flows import Workspace
from reelgraph.matchcut import (
    CandidateConfig,
    MatchCutter,
    PairStore,
    render_preview,
    timeline,
)
from reelgraph.media import MediaAsset, MediaLibrary

Json = dict[str, Any]
MAX_TITLES = 500  # titles per find request

_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"description": "no such pair or asset", "content": {"application/json": {
        "example": error_body("UnknownPair", "no match-cut pair 'abc'",
                              "list the pairs with `reelgraph matchcut list` and use an id "
                              "shown")}}},
    422: {"description": "bad input", "content": {"application/json": {"example": error_body(
        "InvalidInput", "unknown decision 'maybe'", "use one of ('accept', 'reject')")}}},
}


class FindIn(BaseModel):
    assets: list[str] = Field(min_length=1, max_length=MAX_TITLES,
                              description="sha256s or rg://media_asset/... URIs")
    k: int = Field(10, ge=1, le=200, description="neighbours per shot")
    namespace: str = "studio"


class ReviewIn(BaseModel):
    decision: Literal["accept", "reject"]
    reviewer: str = Field(min_length=1, max_length=200)


router = APIRouter(prefix="/api/v1/matchcut", tags=["matchcut"],
                   dependencies=[Depends(require_read)], responses=_ERRORS)


@router.post("/find", dependencies=[Depends(require_write)],
             summary="Find match cuts within and across registered titles")
def find(body: FindIn = Body(...), ws: Workspace = Depends(get_workspace)) -> Json:
    """Memoized: titles and pairs seen before are not computed again."""
    library = MediaLibrary(ws.graph)
    assets: list[MediaAsset] = []
    failed: dict[str, str] = {}
    for ref in body.assets:
        try:
            assets.append(library.get(ref, body.namespace))
        except ReelgraphError as exc:
            failed[ref] = str(exc)
    report = MatchCutter(ws, config=CandidateConfig(k=body.k)).find(assets)
    failed.update(report.failed)
    return {"titles": [{"asset": t.asset.uri, "file_name": t.name, "shots": len(t.shots)}
                       for t in report.titles],
            "failed": failed, "candidates": report.candidates,
            "features_computed": report.features_computed,
            "pairs_computed": report.pairs_computed, "pairs": len(report.pairs)}


@router.get("", summary="Ranked match-cut pairs, best first per kind")
def list_pairs(kind: Literal["frame", "motion"] | None = Query(None),
               title: str | None = Query(None, description="a file name"),
               min_score: float | None = Query(None),
               limit: int = Query(50, ge=1, le=1000),
               ws: Workspace = Depends(get_workspace)) -> Json:
    store = PairStore(ws)
    pairs = store.list(kind=kind, title=title, min_score=min_score, limit=limit)
    decisions = store.decisions(pairs)
    return {"pairs": [{**p.to_dict(), "decision": decisions.get(p.id)} for p in pairs]}


@router.get("/timeline.otio", summary="The accepted pairs as an OpenTimelineIO timeline")
def export_timeline(ws: Workspace = Depends(get_workspace)) -> Response:
    store = PairStore(ws)
    decisions = store.decisions()
    accepted = [p for p in store.all() if decisions.get(p.id) == "accept"]
    if not accepted:
        raise InvalidInput("no accepted match-cut pairs",
                           "accept some: POST /api/v1/matchcut/{pair}/review")
    text = timeline(ws, accepted).to_json_string()
    return Response(text, media_type="application/json")


@router.get("/{pair}", summary="One pair with its latest decision")
def show_pair(pair: str, ws: Workspace = Depends(get_workspace)) -> Json:
    store = PairStore(ws)
    found = store.get(pair)
    return {**found.to_dict(), "decision": store.decisions([found]).get(found.id)}


@router.post("/{pair}/review", dependencies=[Depends(require_write)],
             summary="Accept or reject a pair (stored as an annotation)")
def review(pair: str, body: ReviewIn = Body(...), ws: Workspace = Depends(get_workspace)
           ) -> Json:
    found = PairStore(ws).review(pair, body.decision, body.reviewer)
    return {"pair": found.id, "decision": body.decision, "reviewer": body.reviewer}


@router.get("/{pair}/preview.mp4", summary="The transition: last second of A, first of B",
            responses={200: {"content": {"video/mp4": {}}}})
def preview(pair: str, ws: Workspace = Depends(get_workspace)) -> Response:
    with tempfile.TemporaryDirectory() as folder:
        found = PairStore(ws).get(pair)
        data = render_preview(ws, found, Path(folder) / "preview.mp4").read_bytes()
    return Response(data, media_type="video/mp4")
