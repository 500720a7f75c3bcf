"""``/api/v1/media``: media assets, registering files, and what the media pipeline found:
shots, annotations, canonical frames (their timestamps, or one frame as a PNG) and the
contact sheet.

An asset is addressed by its sha256 in the path (in the ``namespace`` query parameter's
namespace, default studio), or by URI at ``/asset?uri=``. Registering is a write and names
files on the server's own machine; a worker (``reelgraph worker --media``) then ingests them.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from fastapi import APIRouter, Body, Depends, Query, Request, Response
from fastapi import Path as PathParam
from fastapi.concurrency import run_in_threadpool

from reelgraph.api.auth import require_read, require_write
from reelgraph.api.deps import get_media_catalog, get_settings, get_workspace
from reelgraph.api.errors import error_body
from reelgraph.api.schemas.media import (
    ASSET_URI,
    SHA256,
    AnnotationList,
    AssetDetail,
    AssetList,
    FrameList,
    RegisterIn,
    RegisterOut,
    ShotList,
)
from reelgraph.core import InvalidInput, Settings
from reelgraph.flows import Workspace
from reelgraph.media import (
    DEFAULT_NAMESPACE,
    MAX_FPS,
    MAX_SIZE,
    MediaAsset,
    MediaCatalog,
    OutsideMediaRoots,
    admit_media,
    png,
    register,
)

Json = dict[str, Any]
MAX_FRAMES = 1000  # frame timestamps per request

_log = logging.getLogger(__name__)
_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"description": "no such asset", "content": {"application/json": {
        "example": error_body("NotFound", f"no media asset {ASSET_URI} (from {SHA256})",
                              "register the file first (`reelgraph media add FILE` or POST "
                              "/api/v1/media)")}}},
    422: {"description": "a bad sha256, window, frame rate or size", "content": {
        "application/json": {"example": error_body(
            "InvalidInput", "the window [2000000000, 1000000000) ns is empty",
            "pass an end after the start")}}},
}
_NOT_INGESTED: dict[int | str, dict[str, Any]] = {
    409: {"description": "the media pipeline has not ingested the asset yet", "content": {
        "application/json": {"example": error_body(
            "NotIngested", f"clip.mp4 ({ASSET_URI}) has no shots: the media pipeline has not "
            "ingested it", "ingest it: `reelgraph media add FILE --ingest`, or run "
            "`reelgraph worker --media`")}}},
}
_PNG: dict[int | str, dict[str, Any]] = {
    200: {"description": "a PNG image", "content": {"image/png": {}}},
}

Namespace = Query(DEFAULT_NAMESPACE, description="the asset's namespace",
                  examples=[DEFAULT_NAMESPACE])


def _asset(asset: str = PathParam(description="the asset's sha256 (64 hex digits)",
                                  examples=[SHA256]),
           namespace: str = Namespace,
           catalog: MediaCatalog = Depends(get_media_catalog)) -> MediaAsset:
    return catalog.resolve(asset, namespace, files=False)


router = APIRouter(prefix="/api/v1/media", tags=["media"],
                   dependencies=[Depends(require_read)], responses=_ERRORS)


@router.get("", response_model=AssetList, summary="Registered media assets")
def list_assets(
    namespace: str | None = Query(None, description="only this namespace (default: all)"),
    catalog: MediaCatalog = Depends(get_media_catalog),
) -> Json:
    return {"assets": [catalog.summary(a) for a in catalog.assets(namespace)]}


@router.post("", response_model=RegisterOut, status_code=201,
             dependencies=[Depends(require_write)],
             responses={422: {"description": "none of the paths could be registered: outside "
                              "the media roots, unreadable, or not media"}},
             summary="Register video files under the server's media roots as media assets")
def register_assets(body: RegisterIn = Body(...), settings: Settings = Depends(get_settings),
                    catalog: MediaCatalog = Depends(get_media_catalog),
                    ws: Workspace = Depends(get_workspace)) -> Json:
    """Each path must lie under one of the server's ``media_roots`` (directories and URL
    prefixes); anything else is refused without being looked at. Each admitted path is
    registered on its own (idempotent by content); a path that is refused or cannot be read
    is reported in ``failed`` and the others are still registered (201). A worker running
    ``reelgraph worker --media`` then ingests the new assets. Refused (422) when none could
    be registered."""
    why: dict[str, str] = {}
    admitted: dict[str, str] = {}  # canonical location -> as sent
    for path in body.paths:
        try:
            admitted.setdefault(admit_media(path, settings.media_roots), path)
        except OutsideMediaRoots as exc:
            why[path] = str(exc)
    done = register(ws, list(admitted), body.namespace)
    why.update({admitted[where]: reason for where, reason in done.failed.items()})
    failed = {path: why[path] for path in body.paths if path in why}  # in the request's order
    if not done.assets:
        raise InvalidInput("none of the paths could be registered: " + "; ".join(
            f"{p}: {why}" for p, why in failed.items()),
            "send paths of readable video files under the server's media roots")
    return {"assets": [catalog.summary(a) for a in done.assets], "failed": failed}


@router.get("/asset", response_model=AssetDetail, summary="One asset by URI")
def asset_by_uri(uri: str = Query(description="rg://media_asset/NAMESPACE/SHA256",
                                  examples=[ASSET_URI]),
                 catalog: MediaCatalog = Depends(get_media_catalog)) -> Json:
    if not uri.startswith("rg://"):
        raise InvalidInput(f"{uri!r} is not a media asset URI",
                           "pass uri=rg://media_asset/NAMESPACE/SHA256")
    return catalog.describe(catalog.resolve(uri, files=False))


@router.get("/{asset}", response_model=AssetDetail,
            summary="One asset: its probe, annotation sets and shot features")
def show_asset(found: MediaAsset = Depends(_asset),
               catalog: MediaCatalog = Depends(get_media_catalog)) -> Json:
    return catalog.describe(found)


@router.get("/{asset}/shots", response_model=ShotList, responses=_NOT_INGESTED,
            summary="The shots the media pipeline found")
def shots(found: MediaAsset = Depends(_asset),
          catalog: MediaCatalog = Depends(get_media_catalog)) -> Json:
    return catalog.shots(found)


@router.get("/{asset}/annotations", response_model=AnnotationList,
            summary="Annotations overlapping a window and matching every filter")
def list_annotations(
    found: MediaAsset = Depends(_asset),
    types: list[str] | None = Query(None, alias="type", description="only this type "
                                    "(repeatable): shot, label, detection, embedding, ...",
                                    examples=["shot"]),
    start_ns: int | None = Query(None, description="the window's start (default: 0)"),
    end_ns: int | None = Query(None, description="the window's end, exclusive (default: "
                               "the end of time)"),
    label: str | None = Query(None, description="only this label"),
    min_confidence: float | None = Query(None, description="only with at least this "
                                         "confidence, 0 to 1"),
    producer: str | None = Query(None, description="only this producer's",
                                 examples=["media/shots"]),
    version: int | None = Query(None, description="that version of the producer's set "
                                "instead of the current one (needs producer)"),
    limit: int = Query(1000, ge=0, le=100_000),
    catalog: MediaCatalog = Depends(get_media_catalog),
) -> Json:
    rows = catalog.query(found, types=types, start_ns=start_ns, end_ns=end_ns, label=label,
                         min_confidence=min_confidence, producer=producer, version=version,
                         limit=limit)
    return {"asset": found.uri, "annotations": [a.to_dict() for a in rows]}


@router.get("/{asset}/contact-sheet", response_class=Response,
            responses={**_PNG, **_NOT_INGESTED},
            summary="The contact sheet: one thumbnail per shot, as a PNG")
def contact_sheet(found: MediaAsset = Depends(_asset),
                  catalog: MediaCatalog = Depends(get_media_catalog)) -> Response:
    """The pipeline's stored sheet, else one drawn now from the stored shots (header
    ``X-Contact-Sheet``: ``stored`` or ``drawn``)."""
    data, stored = catalog.contact_sheet(found)
    return Response(data, media_type="image/png",
                    headers={"X-Contact-Sheet": "stored" if stored else "drawn"})


@router.get("/{asset}/frames", response_model=FrameList,
            summary="Timestamps of canonical frames sampled at a rate")
async def frames(
    request: Request,
    found: MediaAsset = Depends(_asset),
    fps: float = Query(2.0, description=f"samples per second, above 0 and at most {MAX_FPS}",
                       examples=[2.0]),
    size: int = Query(224, description=f"short side of the pictures, 2 to {MAX_SIZE} pixels"),
    start_ns: int | None = Query(None, description="the first sample (default: the first "
                                 "frame)"),
    end_ns: int | None = Query(None, description="sample before this (default: the end)"),
    limit: int = Query(100, ge=1, le=MAX_FRAMES, description="at most this many"),
    catalog: MediaCatalog = Depends(get_media_catalog),
) -> Json:
    """Decoding stops at ``limit``, after the server's ``max_read_seconds`` (``truncated``
    says so), or as soon as the client goes away."""
    stream = catalog.frames(found, fps=fps, size=size, start_ns=start_ns, end_ns=end_ns)
    deadline = time.monotonic() + get_settings(request).max_read_seconds
    rows: list[Json] = []
    shape: tuple[int, ...] | None = None
    truncated = left = False
    try:
        # One frame per thread hop, so the event loop sees a client leave between frames.
        while (frame := await run_in_threadpool(next, stream, None)) is not None:
            if len(rows) == limit or time.monotonic() > deadline:
                truncated = True
                break
            if await request.is_disconnected():
                left = True
                break
            shape = shape or frame.image.shape
            rows.append({"index": frame.index, "sample_ns": frame.sample_ns,
                         "pts_ns": frame.pts_ns, "duration_ns": frame.duration_ns})
    finally:
        await run_in_threadpool(stream.close)  # the decoder and its file, now
    if left:  # operators (and the disconnect test) see the work stop
        _log.info("frames of %s: the client left after %d of up to %d frames; decoding "
                  "stopped", found.uri, len(rows), limit)
    return {"asset": found.uri, "fps": fps, "size": size,
            "width": shape[1] if shape else None, "height": shape[0] if shape else None,
            "frames": rows, "truncated": truncated}


@router.get("/{asset}/frame.png", response_class=Response, responses=_PNG,
            summary="The frame on screen at a time, as a PNG")
def frame_png(
    found: MediaAsset = Depends(_asset),
    at_ns: int = Query(description="the time, in nanoseconds", examples=[500_000_000]),
    size: int | None = Query(None, description=f"short side, 2 to {MAX_SIZE} pixels "
                             "(default: as decoded)"),
    catalog: MediaCatalog = Depends(get_media_catalog),
) -> Response:
    frame = catalog.frame_at(found, at_ns, size)
    return Response(png(frame.image), media_type="image/png",
                    headers={"X-Frame-Pts-Ns": str(frame.pts_ns)})
