"""What the REST API and the CLI share: media assets and what the pipeline stored about them.

``MediaCatalog`` answers, from what is stored, the questions both front ends ask: which
assets there are (``summary``: file, duration, resolution, frame rate, codec, shot count),
one asset in detail (``describe``: its probe, annotation sets and the shot features the
pipeline wrote), the pipeline's shots, annotations by window, type, label and producer,
canonical frames (``frames``) and the frame on screen at an instant (``frame_at``), and the
contact sheet: the pipeline's stored PNG, else one drawn now from the stored shots and the
asset's cached proxy frames. Reading is all it does, except that drawing a sheet may decode
and cache that proxy (as the pipeline itself would).

Assets are named by URI (``rg://media_asset/NS/SHA256``), by sha256 (in a namespace) or,
where the caller allows it, by a local file whose bytes were registered. Times are integer
nanoseconds on the asset's own timeline; ranges are half-open ``[start_ns, end_ns)``.
"""

from __future__ import annotations

import io
import re
import tempfile
from collections import Counter
from collections.abc import Generator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from reelgraph.core import Conflict, InvalidInput, NotFound
from reelgraph.flows import Workspace
from reelgraph.media.annotations import Annotation, AnnotationSet, AnnotationStore
from reelgraph.media.assets import DEFAULT_NAMESPACE, SHA256_PREFIX, MediaAsset, MediaLibrary
from reelgraph.media.contact_sheet import render_contact_sheet
from reelgraph.media.frames import Frame, FrameBatch, read_frames
from reelgraph.media.pipeline import EMBED_FPS, EMBED_SIZE, PRODUCER, contact_sheet_key
from reelgraph.media.proxies import ProxyCache

# Bounds of a frame read, so one request cannot decode for minutes (a 4096-px frame took 7 s).
MAX_FPS = 120  # samples per second a frame read may ask for
MAX_SIZE = 1080  # short side, in pixels, of frames handed out
END_OF_TIME = 2**63 - 1  # the end of a window given only a start
_SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")
INGEST_FIX = ("ingest it: `reelgraph media add FILE --ingest`, or run `reelgraph worker "
              "--media` (it picks up every registered asset)")


class NotIngested(Conflict):
    """The media pipeline has not written shots for an asset (yet)."""


class MediaCatalog:
    """Assets and their pipeline results, read from a graph, the annotation store and the
    artifact store of a workspace; ``close`` closes what it opened, never the workspace."""

    def __init__(self, workspace: Workspace) -> None:
        self.settings = workspace.settings
        self.graph = workspace.graph
        self.library = MediaLibrary(workspace.graph)
        self.artifacts = workspace.artifacts
        self.proxies = ProxyCache(workspace.graph, self.artifacts)
        self.annotations = AnnotationStore(workspace)

    def close(self) -> None:
        self.annotations.close()

    def __enter__(self) -> MediaCatalog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- assets --------------------------------------------------------------------------

    def resolve(self, ref: str | Path, namespace: str | None = None, *,
                files: bool = True) -> MediaAsset:
        """The asset a URI, a sha256 or a unique prefix of one (in ``namespace``) or, with
        ``files``, a file names."""
        text = str(ref).strip()
        namespace = namespace or DEFAULT_NAMESPACE
        if _SHA256.match(text):
            text = text.lower()
        elif SHA256_PREFIX.match(text) and not Path(text).expanduser().is_file():
            pass  # the library finds the one asset it starts
        elif not text.startswith("rg://"):
            if not files:
                raise InvalidInput(f"{text!r} is not a media asset's sha256 or URI",
                                   "pass the 64-hex sha256 or the rg://media_asset/NS/SHA256 "
                                   "URI the asset list shows")
            if not Path(text).expanduser().is_file():
                raise NotFound(f"{text!r} is not a media asset's URI or sha256, nor a file",
                               "pass rg://media_asset/NS/SHA256, a sha256, or the path of a "
                               "registered file (`reelgraph media list` shows them)")
        try:
            return self.library.get(text, namespace)
        except NotFound as exc:
            raise NotFound(exc.problem, "register the file first (`reelgraph media add FILE` "
                                        "or POST /api/v1/media); `reelgraph media list` shows "
                                        "the registered assets") from None

    def assets(self, namespace: str | None = None) -> list[MediaAsset]:
        return self.library.list(namespace)

    def summary(self, asset: MediaAsset) -> dict[str, Any]:
        """One line's worth: file, timing, picture, codec, and shots (None: not ingested)."""
        probe, video = asset.probe, asset.probe.video
        codec = video.codec if video else (probe.audio[0].codec if probe.audio else None)
        current = self._pipeline_set(asset)
        return {
            "uri": asset.uri, "sha256": asset.checksum, "namespace": asset.namespace,
            "file_name": asset.file_name, "location": asset.location,
            "container": probe.container, "size_bytes": probe.size_bytes,
            "start_ns": probe.start_ns, "duration_ns": probe.duration_ns,
            "duration_s": probe.duration_s,
            "width": video.width if video else None, "height": video.height if video else None,
            "fps": round(video.fps, 3) if video else None, "codec": codec,
            "audio_streams": len(probe.audio),
            "shots": None if current is None else len(self._shot_rows(asset, current)),
        }

    def describe(self, asset: MediaAsset) -> dict[str, Any]:
        """The summary plus the probe, every annotation set, the shot features the
        pipeline's embedding annotations reference, and the stored contact sheet's URI."""
        features = Counter(a.data.get("feature") for a in self.annotations.query(
            asset.uri, types="embedding"))
        sheet = self.graph.get(contact_sheet_key(asset))
        return {
            **self.summary(asset),
            "probe": asset.probe.to_dict(),
            "annotation_sets": [s.to_dict() for s in self.annotations.versions(asset.uri)],
            "features": [{"feature": f, "shots": n} for f, n in sorted(features.items())
                         if isinstance(f, str)],
            "contact_sheet": sheet.uri if sheet is not None else None,
        }

    # --- shots and annotations -----------------------------------------------------------

    def _pipeline_set(self, asset: MediaAsset) -> AnnotationSet | None:
        return next((s for s in self.annotations.versions(asset.uri, PRODUCER) if s.current),
                    None)

    def _shot_rows(self, asset: MediaAsset, current: AnnotationSet) -> list[Annotation]:
        return self.annotations.query(asset.uri, types="shot", producer=PRODUCER,
                                      version=current.version)

    def shots(self, asset: MediaAsset) -> dict[str, Any]:
        """The pipeline's current shots; ``NotIngested`` when it has written none."""
        current = self._pipeline_set(asset)
        if current is None:
            raise NotIngested(f"{asset.file_name} ({asset.uri}) has no shots: the media "
                              "pipeline has not ingested it", INGEST_FIX)
        rows = self._shot_rows(asset, current)
        return {"asset": asset.uri, "producer": PRODUCER, "version": current.version,
                "run_id": current.producer.run_id, "shots": [
                    {"index": int(a.data.get("index", i)), "start_ns": a.start_ns,
                     "end_ns": a.end_ns, "duration_ns": a.end_ns - a.start_ns}
                    for i, a in enumerate(rows)]}

    def query(self, asset: MediaAsset, *, types: Sequence[str] | None = None,
              start_ns: int | None = None, end_ns: int | None = None,
              label: str | None = None, min_confidence: float | None = None,
              producer: str | None = None, version: int | None = None,
              limit: int | None = None) -> list[Annotation]:
        """The asset's annotations matching every filter given (see
        ``AnnotationStore.query``); a window needs only one of its ends."""
        if version is not None and producer is None:
            raise InvalidInput(f"version {version} names one producer's set, and no producer "
                               "was given", "pass the producer too, e.g. media/shots")
        return self.annotations.query(
            asset.uri, window=window(start_ns, end_ns), types=list(types) if types else None,
            label=label, min_confidence=min_confidence, producer=producer, version=version,
            limit=limit)

    # --- frames and the contact sheet ----------------------------------------------------

    def frames(self, asset: MediaAsset, *, fps: float | None, size: int | None,
               start_ns: int | None = None, end_ns: int | None = None
               ) -> Generator[Frame, None, None]:
        """Canonical frames (see ``read_frames``), streamed; bad options fail at once."""
        _video(asset)
        _check_frames(fps, size)
        window(start_ns, end_ns)
        return read_frames(asset.location, fps=fps, size=size,
                           start_ns=start_ns, end_ns=end_ns)

    def frame_at(self, asset: MediaAsset, at_ns: int, size: int | None = None) -> Frame:
        """The frame on screen at ``at_ns``."""
        _video(asset)
        _check_frames(None, size)
        first, end = asset.probe.start_ns, asset.probe.end_ns
        if not 0 <= at_ns < end:
            raise InvalidInput(f"{at_ns} ns is outside {asset.file_name}, whose video spans "
                               f"[{first}, {end}) ns",
                               f"pass a time from {first} to {end - 1} ns")
        frame = next(read_frames(asset.location, fps=1, size=size, start_ns=at_ns,
                                 end_ns=at_ns + 1), None)
        if frame is None:
            raise NotFound(f"{asset.file_name} shows no frame at {at_ns} ns",
                           "pick an earlier time; `frames` lists the frames there are")
        return frame

    def contact_sheet(self, asset: MediaAsset) -> tuple[bytes, bool]:
        """The contact sheet PNG and whether it is the pipeline's stored one (else drawn
        now from the stored shots and the proxy frames)."""
        node = self.graph.get(contact_sheet_key(asset))
        if node is not None and self.artifacts.exists(node.properties["digest"]):
            return self.artifacts.get_bytes(node.properties["digest"]), True
        shots = self.shots(asset)["shots"]
        if not shots:
            raise NotIngested(f"the media pipeline found no shots in {asset.file_name}",
                              "check that the file plays and has a video stream")
        batch = self.proxies.frames(asset, fps=EMBED_FPS, size=EMBED_SIZE)
        if len(batch) == 0:
            raise InvalidInput(f"{asset.file_name} gave no frames",
                               "check that the file plays; a video stream is needed")
        cells = [(_thumbnail(batch, s["start_ns"], s["end_ns"]), s["start_ns"], s["end_ns"])
                 for s in shots]
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "sheet.png"
            render_contact_sheet(cells, path,
                                 title=f"{asset.file_name}: {len(shots)} shots")
            return path.read_bytes(), False


def window(start_ns: int | None, end_ns: int | None) -> tuple[int, int] | None:
    """``(start, end)`` from optional ends (a missing one is open), checked; None for none."""
    if start_ns is None and end_ns is None:
        return None
    start = 0 if start_ns is None else start_ns
    end = END_OF_TIME if end_ns is None else end_ns
    if start < 0:
        raise InvalidInput(f"the window starts at {start} ns, before the asset",
                           "pass a start of 0 or more")
    if end <= start:
        raise InvalidInput(f"the window [{start}, {end}) ns is empty",
                           "pass an end after the start")
    return start, end


def png(image: np.ndarray) -> bytes:
    """An RGB ``uint8`` picture as PNG bytes."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(image)).save(buffer, format="PNG")
    return buffer.getvalue()


def _video(asset: MediaAsset) -> None:
    if asset.probe.video is None:
        raise InvalidInput(f"{asset.file_name} has no video stream, so no frames",
                           "read frames of a video asset")


def _check_frames(fps: float | None, size: int | None) -> None:
    if fps is not None and (isinstance(fps, bool) or not 0 < fps <= MAX_FPS):
        raise InvalidInput(f"frame rate {fps} is not from 0 to {MAX_FPS} samples per second",
                           "pass fps above 0, e.g. 2 (frames per second)")
    if size is not None and (isinstance(size, bool) or not 2 <= size <= MAX_SIZE):
        raise InvalidInput(f"frame size {size} is not a short side from 2 to {MAX_SIZE} "
                           "pixels", "pass a size like 224")


def _thumbnail(batch: FrameBatch, start_ns: int, end_ns: int) -> np.ndarray:
    """The middle proxy frame inside the shot, else the one nearest its middle (the
    pipeline's choice)."""
    times = batch.pts_ns
    inside = np.flatnonzero((times >= start_ns) & (times < end_ns))
    if inside.size == 0:
        inside = np.array([int(np.argmin(np.abs(times - (start_ns + end_ns) // 2)))])
    image: np.ndarray = batch.images[inside[len(inside) // 2]]
    return image
