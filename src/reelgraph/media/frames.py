"""Canonical frames: one way to read pictures out of any video FFmpeg decodes.

``read_frames(source, fps=2, size=224, start_ns=..., end_ns=...)`` streams ``Frame``s
(a generator: it seeks to the key frame at or before ``start_ns`` and decodes forward,
holding one or two decoded pictures, never the file). The rules, whatever the container
(mp4, webm, mkv, avi, ...) or codec (H.264, VP8/VP9, AV1, MPEG-4, ...):

- Time: a frame's ``pts_ns`` is its presentation time ``pts * time_base`` in integer
  nanoseconds (rounded down) on the stream's own timeline, which need not start at 0;
  ``seconds`` is the same as a float. Ranges are half-open, ``[start_ns, end_ns)``.
- ``fps=None``: every decoded frame with ``start_ns <= pts < end_ns``, in presentation order.
- ``fps=r``: samples at ``t_k = t0 + k / r`` (``t0`` = ``start_ns``, else the first frame's
  time) while ``t_k < end_ns`` (else the end of the last frame). Sample ``t_k`` gets the
  frame on screen at ``t_k``: the latest frame with ``pts <= t_k`` (the first frame if
  ``t_k`` precedes it). This holds for variable frame rates too. Comparisons are exact
  (rationals). ``sample_ns`` is ``t_k``; a frame answers several samples when ``r`` is above
  the source's rate (each gets its own copy of the picture), and frames are skipped when it
  is below.
- ``size``: the short side in pixels of the displayed picture (sample aspect ratio
  applied), the long side scaled to keep the aspect ratio, both rounded to even numbers;
  ``None`` keeps the decoded size. Pictures are RGB ``uint8`` arrays ``(height, width, 3)``,
  scaled by libswscale (area filter) straight from the decoder's YUV.
- A frame whose time does not increase on the one before (a broken stream) is dropped.
  Display rotation metadata is not applied.

``FrameBatch`` holds a whole read in three arrays (the proxy format, see ``proxies``).
"""

from __future__ import annotations

import io
import math
from collections.abc import Generator, Iterable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from reelgraph.core import InvalidInput
from reelgraph.media.errors import MediaError
from reelgraph.media.probe import NS
from reelgraph.media.source import Source, av_module, location, open_media, unreadable

Rate = float | int | Fraction


@dataclass(frozen=True, eq=False)
class Frame:
    """One decoded frame: its index, presentation and sample times, duration and RGB image."""
    index: int  # position in this read, from 0
    pts_ns: int  # the decoded frame's presentation time
    sample_ns: int  # the sample time it answers (== pts_ns when reading every frame)
    duration_ns: int  # how long the decoded frame is shown (from the container)
    image: np.ndarray  # (height, width, 3) uint8 RGB

    @property
    def seconds(self) -> float:
        return self.pts_ns / NS


@dataclass(frozen=True)
class FrameSpec:
    """What a canonical read asks for: a sampling rate (None: every frame) and a size."""

    fps: Fraction | None = None
    size: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "fps", to_rate(self.fps))
        if self.size is not None and (not isinstance(self.size, int) or self.size < 2):
            raise InvalidInput(f"frame size {self.size!r} is not a short side in pixels",
                               "pass an integer of at least 2 (e.g. 224), or None")

    @property
    def key(self) -> str:
        """A name-safe key, e.g. ``fps-2_short-224`` or ``fps-all_short-native``."""
        rate = "all" if self.fps is None else str(self.fps).replace("/", "-")
        return f"fps-{rate}_short-{self.size or 'native'}"


@dataclass(frozen=True, eq=False)
class FrameBatch:
    """A whole read: ``images`` (N, H, W, 3) uint8; ``pts_ns``, ``sample_ns`` and
    ``duration_ns`` (N,) int64."""

    images: np.ndarray
    pts_ns: np.ndarray
    sample_ns: np.ndarray
    duration_ns: np.ndarray

    def __len__(self) -> int:
        return int(self.pts_ns.shape[0])

    def frames(self) -> Iterator[Frame]:
        for i in range(len(self)):
            yield Frame(i, int(self.pts_ns[i]), int(self.sample_ns[i]),
                        int(self.duration_ns[i]), self.images[i])

    def to_bytes(self) -> bytes:
        buffer = io.BytesIO()
        np.savez(buffer, images=self.images, pts_ns=self.pts_ns, sample_ns=self.sample_ns,
                 duration_ns=self.duration_ns)
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> FrameBatch:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            return cls(npz["images"], npz["pts_ns"], npz["sample_ns"], npz["duration_ns"])

    @classmethod
    def collect(cls, frames: Iterable[Frame]) -> FrameBatch:
        images: list[np.ndarray] = []
        times: list[tuple[int, int, int]] = []
        for frame in frames:
            images.append(frame.image)
            times.append((frame.pts_ns, frame.sample_ns, frame.duration_ns))
        stacked = np.stack(images) if images else np.zeros((0, 0, 0, 3), np.uint8)
        columns = np.asarray(times, np.int64).reshape(-1, 3)
        return cls(stacked, columns[:, 0].copy(), columns[:, 1].copy(), columns[:, 2].copy())


def to_rate(fps: Rate | None) -> Fraction | None:
    if fps is None:
        return None
    if isinstance(fps, bool) or not isinstance(fps, int | float | Fraction) or not fps > 0 \
            or not math.isfinite(fps):
        raise InvalidInput(f"frame rate {fps!r} is not a positive number",
                           "pass frames per second, e.g. fps=2, or fps=None for every frame")
    return Fraction(fps).limit_denominator(1_000_000) if isinstance(fps, float) \
        else Fraction(fps)


def read_frames(source: Source, *, fps: Rate | None = None, size: int | None = None,
                start_ns: int | None = None, end_ns: int | None = None,
                threads: int | None = None) -> Generator[Frame, None, None]:
    """Stream canonical frames of the first video stream (see the module docstring).

    ``threads``: decoder threads; None lets FFmpeg use frame and slice threads on every core
    (fastest for one video on an idle machine), 1 costs the least CPU per frame (best when
    many videos are decoded at once, or with ``prefetch.prefetched`` on two cores).
    """
    spec = FrameSpec(to_rate(fps), size)
    if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int)
                                or threads < 1):
        raise InvalidInput(f"decoder threads {threads!r} is not a positive integer",
                           "pass threads=None (automatic) or a count such as 1")
    if start_ns is not None and end_ns is not None and end_ns <= start_ns:
        raise InvalidInput(f"the range [{start_ns}, {end_ns}) ns is empty",
                           "pass end_ns greater than start_ns")
    start = None if start_ns is None else Fraction(start_ns, NS)
    end = None if end_ns is None else Fraction(end_ns, NS)
    return _frames(location(source), spec, start, end, threads)  # arguments checked now


def _frames(where: str, spec: FrameSpec, start: Fraction | None, end: Fraction | None,
            threads: int | None) -> Generator[Frame, None, None]:
    with open_media(where) as container:
        if not container.streams.video:
            raise MediaError(f"{where} has no video stream", "read frames from a video file")
        stream = container.streams.video[0]
        if threads is None:  # FFmpeg's choice: frame and slice threads, one per core
            stream.thread_type = "AUTO"
        else:
            stream.thread_type, stream.thread_count = "SLICE", threads
        decoded = _decoded(where, container, stream, start)
        chosen = _every(decoded, start, end) if spec.fps is None \
            else _sampled(decoded, spec.fps, start, end)
        scale = _Scaler(spec.size, stream.sample_aspect_ratio)
        last: tuple[Any, np.ndarray] | None = None
        for index, (time, picture, duration, sample) in enumerate(chosen):
            if last is not None and last[0] is picture:
                image = last[1].copy()
            else:
                image = scale(picture)
                last = (picture, image)
            pts_ns = _ns(time)
            yield Frame(index, pts_ns, pts_ns if sample is None else _ns(sample),
                        _ns(duration), image)


# One decoded picture: (presentation time in seconds, the PyAV frame, its duration).
_Decoded = tuple[Fraction, Any, Fraction]


def _decoded(where: str, container: Any, stream: Any, start: Fraction | None
             ) -> Iterator[_Decoded]:
    """Decoded pictures in presentation order, from the key frame at or before ``start``."""
    error = av_module().error.FFmpegError
    time_base = Fraction(stream.time_base)
    fallback = Fraction(1, 25) if not stream.average_rate else 1 / Fraction(stream.average_rate)
    last: Fraction | None = None
    try:
        pictures = _from_start(container, stream, start, time_base)
        for picture in pictures:
            stamp = picture.pts if picture.pts is not None else picture.dts
            if stamp is None:
                continue
            time = stamp * time_base
            if last is not None and time <= last:
                continue
            last = time
            duration = picture.duration * time_base if picture.duration else fallback
            yield time, picture, duration
    except error as exc:
        raise unreadable(where, exc, f"{float(last or 0):.2f} s") from None


def _from_start(container: Any, stream: Any, start: Fraction | None, time_base: Fraction
                ) -> Iterator[Any]:
    """Decode from the key frame at or before ``start``; if the index seeks too far (the
    first picture comes after ``start``), decode from the beginning instead."""
    if start is None or start <= 0:
        yield from container.decode(stream)
        return
    container.seek(math.floor(start / time_base), stream=stream, backward=True)
    pictures = container.decode(stream)
    first = next(pictures, None)
    if first is not None and first.pts is not None and first.pts * time_base > start:
        container.seek(stream.start_time or 0, stream=stream, backward=True)
        pictures = container.decode(stream)
        first = next(pictures, None)
    if first is not None:
        yield first
        yield from pictures


# A chosen picture: a decoded one plus the sample time it answers (None: every-frame reads).
_Chosen = tuple[Fraction, Any, Fraction, Fraction | None]


def _every(decoded: Iterator[_Decoded], start: Fraction | None, end: Fraction | None
           ) -> Iterator[_Chosen]:
    for time, picture, duration in decoded:
        if start is not None and time < start:
            continue
        if end is not None and time >= end:
            return
        yield time, picture, duration, None


def _sampled(decoded: Iterator[_Decoded], fps: Fraction, start: Fraction | None,
             end: Fraction | None) -> Iterator[_Chosen]:
    step = 1 / fps
    origin = start
    k = 0
    previous: _Decoded | None = None
    for current in decoded:
        time = current[0]
        if origin is None:
            origin = time
        while True:  # every sample before this picture is answered by the one before it
            sample = origin + k * step
            if (end is not None and sample >= end) or time <= sample:
                break
            shown = previous if previous is not None else current
            yield (*shown, sample)
            k += 1
        if end is not None and origin + k * step >= end:
            return
        previous = current
    if previous is None or origin is None:
        return
    stop = previous[0] + previous[2]
    if end is not None:
        stop = min(stop, end)
    while (sample := origin + k * step) < stop:
        yield (*previous, sample)
        k += 1


class _Scaler:
    """Scales with cached libswscale contexts (a fresh one per frame is several times
    slower): first in the decoder's own YUV format, then to RGB at the small size, which
    costs about half of scaling and converting in one step."""

    def __init__(self, size: int | None, aspect: Any) -> None:
        from av.video.reformatter import VideoReformatter

        self._size = size
        self._aspect = Fraction(aspect) if aspect else Fraction(1)
        self._scale, self._convert = VideoReformatter(), VideoReformatter()
        self._dims: dict[tuple[int, int], tuple[int, int]] = {}

    def __call__(self, picture: Any) -> np.ndarray:
        key = (picture.width, picture.height)
        if key not in self._dims:
            self._dims[key] = self._target(*key)
        width, height = self._dims[key]
        if (width, height) != key and picture.format.name.startswith("yuv"):
            picture = self._scale.reformat(picture, width=width, height=height,
                                           interpolation="AREA", threads=1)
        out = self._convert.reformat(picture, width=width, height=height, format="rgb24",
                                     interpolation="AREA", threads=1)
        return np.ascontiguousarray(out.to_ndarray())

    def _target(self, width: int, height: int) -> tuple[int, int]:
        if self._size is None:
            return width, height
        shown = width * self._aspect
        short = _even(self._size)
        if shown >= height:
            return _even(short * shown / height), short
        return short, _even(short * height / shown)


def _ns(seconds: Fraction) -> int:
    return seconds.numerator * NS // seconds.denominator


def _even(value: Fraction | int) -> int:
    return max(2, 2 * round(Fraction(value) / 2))
