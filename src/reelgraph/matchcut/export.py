"""Hand match cuts to editors: an OpenTimelineIO timeline and rendered MP4s (PyAV).

A pair's transition is the last ``PREVIEW_S`` seconds of shot A cut into the first
``PREVIEW_S`` seconds of shot B (the whole shot when it is shorter). ``timeline`` lays every
given pair's transition on one video track (clips reference the source files, times in the
source's frame rate); ``write_timeline`` writes ``.otio`` natively and ``.edl`` (CMX 3600) or
``.xml`` (FCP 7 XML) through the OpenTimelineIO adapter packages when they are installed.
``render`` encodes the transitions of several pairs one after another as one H.264 MP4;
``render_preview`` does one pair. Every file is written to a temporary name and renamed, so
a failed export leaves nothing; a pair that cannot be rendered (a shot too short, an
unreadable asset) is reported and skipped, and the others are still rendered.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from reelgraph.core import InvalidInput, MissingDependency, ReelgraphError
from reelgraph.flows import Workspace
from reelgraph.matchcut.pairs import MatchPair
from reelgraph.media import MediaAsset, MediaLibrary, read_frames

PREVIEW_S = 1.0
MIN_SIDE_S = 0.2  # a side shorter than this is no cut to look at
NS = 1_000_000_000
RENDER_FPS = 25
RENDER_SIZE = (320, 180)  # width, height; every source is scaled (and letterboxed) to it
ADAPTERS = {".otio": "otio_json", ".edl": "cmx_3600", ".xml": "fcp_xml"}


class ClipTooShort(InvalidInput):
    """A shot too short to show a transition."""


@dataclass(frozen=True)
class Segment:
    location: str
    start_ns: int
    end_ns: int
    name: str
    rate: Fraction
    duration_ns: int  # the whole source's


@dataclass
class RenderReport:
    path: Path | None
    rendered: list[str] = field(default_factory=list)  # pair ids
    failed: dict[str, str] = field(default_factory=dict)  # pair id -> why


def transition(library: MediaLibrary, pair: MatchPair) -> tuple[Segment, Segment]:
    """The two segments of a pair's transition (checked: each side long enough)."""
    preview = int(PREVIEW_S * NS)
    a0, a1 = pair.span_a
    b0, b1 = pair.span_b
    for shot, (start, end) in ((pair.shot_a, pair.span_a), (pair.shot_b, pair.span_b)):
        if end - start < MIN_SIDE_S * NS:
            raise ClipTooShort(
                f"shot {shot} of pair {pair.id} lasts {(end - start) / NS:.2f} s, too short "
                f"for a preview", f"review pairs whose shots last at least {MIN_SIDE_S} s")
    asset_a, asset_b = library.get(pair.asset_a), library.get(pair.asset_b)
    return (Segment(asset_a.location, max(a0, a1 - preview), a1, pair.title_a, _rate(asset_a),
                    asset_a.probe.duration_ns),
            Segment(asset_b.location, b0, min(b1, b0 + preview), pair.title_b, _rate(asset_b),
                    asset_b.probe.duration_ns))


def _rate(asset: MediaAsset) -> Fraction:
    video = asset.probe.video
    return Fraction(video.frame_rate) if video is not None and video.frame_rate else Fraction(25)


def _otio() -> Any:
    try:
        import opentimelineio
    except ImportError:
        raise MissingDependency("opentimelineio", "match-cut timelines") from None
    return opentimelineio


def timeline(ws: Workspace, pairs: Sequence[MatchPair], name: str = "match cuts") -> Any:
    """An OpenTimelineIO ``Timeline`` of the pairs' transitions, in the given order."""
    otio = _otio()
    result = otio.schema.Timeline(name=name)
    track = otio.schema.Track(name="match cuts", kind=otio.schema.TrackKind.Video)
    result.tracks.append(track)
    with MediaLibrary(ws.graph) as library:
        for pair in pairs:
            for side, segment in zip("AB", transition(library, pair), strict=True):
                rate = float(segment.rate)

                def frames(ns: int, rate: float = rate) -> Any:
                    return otio.opentime.RationalTime(round(ns * rate / NS), rate)

                start = frames(segment.start_ns)
                length = otio.opentime.RationalTime(
                    max(1, frames(segment.end_ns - segment.start_ns).value), rate)
                track.append(otio.schema.Clip(
                    name=f"{pair.id}-{side} {segment.name}",
                    media_reference=otio.schema.ExternalReference(
                        target_url=Path(segment.location).resolve().as_uri(),
                        available_range=otio.opentime.TimeRange(
                            frames(0), frames(segment.duration_ns))),
                    source_range=otio.opentime.TimeRange(start, length),
                    metadata={"reelgraph": {"pair": pair.id, "kind": pair.kind,
                                            "score": pair.score}}))
    return result


def write_timeline(result: Any, path: Path) -> Path:
    """Write a timeline; the suffix picks the format (``.otio``, ``.edl``, ``.xml``)."""
    otio = _otio()
    adapter = ADAPTERS.get(path.suffix.lower())
    if adapter is None:
        raise InvalidInput(f"cannot write a timeline as {path.suffix or 'a file without a suffix'}",
                           f"use one of {sorted(ADAPTERS)}")
    if adapter not in otio.adapters.available_adapter_names():
        raise MissingDependency(f"otio-{adapter.replace('_', '')}-adapter",
                                f"writing {path.suffix} timelines")
    with _atomic(path) as temporary:
        otio.adapters.write_to_file(result, str(temporary), adapter_name=adapter)
    return path


@contextmanager
def _atomic(path: Path) -> Iterator[Path]:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(suffix=path.suffix, dir=path.parent, prefix=".partial-")
    os.close(handle)
    temporary = Path(name)
    try:
        yield temporary
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def _fit(image: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    """Scale into RENDER_SIZE keeping the aspect ratio, black bars around."""
    import cv2

    width, height = RENDER_SIZE
    scale = min(width / image.shape[1], height / image.shape[0])
    w, h = max(2, round(image.shape[1] * scale)), max(2, round(image.shape[0] * scale))
    canvas = np.zeros((height, width, 3), np.uint8)
    top, left = (height - h) // 2, (width - w) // 2
    canvas[top:top + h, left:left + w] = cv2.resize(image, (w, h), interpolation=cv2.INTER_AREA)
    return canvas


def _pictures(segment: Segment) -> list[npt.NDArray[np.uint8]]:
    frames = [_fit(f.image) for f in read_frames(segment.location, fps=RENDER_FPS,
                                                  start_ns=segment.start_ns,
                                                  end_ns=segment.end_ns)]
    if not frames:
        raise ClipTooShort(f"no frames in {segment.name} between {segment.start_ns / NS:.2f} s "
                           f"and {segment.end_ns / NS:.2f} s", "check the asset still plays")
    return frames


def render(ws: Workspace, pairs: Sequence[MatchPair], path: Path) -> RenderReport:
    """One MP4 of the pairs' transitions one after another (failed pairs left out)."""
    import av

    report = RenderReport(None)
    clips: list[list[npt.NDArray[np.uint8]]] = []
    with MediaLibrary(ws.graph) as library:
        for pair in pairs:
            try:
                a, b = transition(library, pair)
                clips.append(_pictures(a) + _pictures(b))
                report.rendered.append(pair.id)
            except ReelgraphError as exc:
                report.failed[pair.id] = str(exc)
    if not clips:
        return report
    with _atomic(path) as temporary, av.open(str(temporary), "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=RENDER_FPS)
        stream.width, stream.height = RENDER_SIZE
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": "23", "preset": "veryfast"}
        for picture in (p for clip in clips for p in clip):
            frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    report.path = path
    return report


def render_preview(ws: Workspace, pair: MatchPair, path: Path) -> Path:
    """One pair's transition as an MP4; raises the pair's error when it cannot be made."""
    report = render(ws, [pair], path)
    if report.path is None:
        problem = report.failed.get(pair.id, "nothing could be rendered")
        raise ClipTooShort(f"no preview for pair {pair.id}: {problem}",
                           "pick a pair whose shots both play for at least "
                           f"{MIN_SIDE_S} s")
    return report.path
