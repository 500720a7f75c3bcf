"""Shot segmentation: PySceneDetect's detectors run on canonical low-resolution frames.

``detect_shots(source)`` decodes every frame once at a small size (``ShotConfig.size``, the
short side; libswscale scales straight from the decoder's YUV, with FFmpeg's frame threads)
on a worker thread that runs ahead of the detector, and feeds each picture to
PySceneDetect's ``ContentDetector`` or ``AdaptiveDetector`` through their ``process_frame``
API, so PySceneDetect never decodes. ``shots_from_frames`` does the same for frames you
already have (e.g. a cached proxy read with ``fps=None``).

Rules:

- A shot is ``[start_frame, end_frame)`` in the indices of the frames read, and
  ``[start_ns, end_ns)`` in presentation time: a shot starts at its first frame's pts and
  ends where the next shot starts; the last one ends where its last frame stops showing.
- A cut is reported at the first frame of the new shot.
- The detectors see each frame's exact time (PySceneDetect ``Timecode``s in nanoseconds),
  so ``min_shot_s`` is measured in seconds even when the frame rate varies.
- Thresholds mean what they mean in PySceneDetect (defaults are its own); scores are
  averages over pixels, so they change little with ``size``.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from fractions import Fraction
from itertools import pairwise
from typing import Any, Literal

from reelgraph.core import InvalidInput, MissingDependency
from reelgraph.media.frames import Frame, read_frames
from reelgraph.media.prefetch import prefetched
from reelgraph.media.probe import NS
from reelgraph.media.source import Source, location, open_media

Detector = Literal["content", "adaptive"]


@dataclass(frozen=True)
class ShotConfig:
    """How shots are detected: PySceneDetect's detector, thresholds and shortest shot."""
    detector: Detector = "content"
    threshold: float = 27.0  # content: the frame score that makes a cut
    adaptive_threshold: float = 3.0  # adaptive: score / mean score of the neighbours
    min_content_val: float = 15.0  # adaptive: the least frame score that can be a cut
    window_width: int = 2  # adaptive: neighbours on each side
    min_shot_s: float = 0.6  # shortest shot, as PySceneDetect's command line has it
    luma_only: bool = False
    size: int = 96  # short side, in pixels, of the frames the detector sees
    decoder_threads: int | None = None  # None: FFmpeg's automatic threading (see read_frames)
    # Processes for a long video, each decoding one time segment (None: one per CPU when the
    # video is long enough; 1: never split).
    workers: int | None = None

    def __post_init__(self) -> None:
        if self.detector not in ("content", "adaptive"):
            raise InvalidInput(f"unknown shot detector {self.detector!r}",
                               "use detector='content' or detector='adaptive'")
        if (self.size < 16 or self.window_width < 1 or self.min_shot_s < 0
                or (self.workers is not None and self.workers < 1)):
            raise InvalidInput(
                f"shot settings out of range (size={self.size}, window_width="
                f"{self.window_width}, min_shot_s={self.min_shot_s}, workers={self.workers})",
                "use size >= 16, window_width >= 1, min_shot_s >= 0 and workers >= 1")

    def build(self) -> Any:
        """A fresh PySceneDetect detector for these settings."""
        try:
            from scenedetect.detectors import AdaptiveDetector, ContentDetector
        except ModuleNotFoundError:
            raise MissingDependency("scenedetect", "shot detection") from None
        if self.detector == "adaptive":
            return AdaptiveDetector(adaptive_threshold=self.adaptive_threshold,
                                    min_scene_len=self.min_shot_s,
                                    window_width=self.window_width,
                                    min_content_val=self.min_content_val,
                                    luma_only=self.luma_only)
        return ContentDetector(threshold=self.threshold, min_scene_len=self.min_shot_s,
                               luma_only=self.luma_only)


@dataclass(frozen=True)
class Shot:
    """One shot of a video: frame range and time range (end exclusive)."""
    index: int
    start_frame: int
    end_frame: int  # exclusive
    start_ns: int
    end_ns: int  # exclusive

    @property
    def frames(self) -> int:
        return self.end_frame - self.start_frame

    @property
    def start_s(self) -> float:
        return self.start_ns / NS

    @property
    def end_s(self) -> float:
        return self.end_ns / NS


def detect_shots(source: Source, config: ShotConfig | None = None, *,
                 start_ns: int | None = None, end_ns: int | None = None) -> list[Shot]:
    """Segment a video (or the part ``[start_ns, end_ns)`` of it) into shots.

    A long video is cut into time segments decoded and scanned by separate processes (one
    per CPU); each also reads a margin before and after its segment, so the detector sees
    every cut with the context an uninterrupted run gives it, and keeps the cuts inside."""
    config = config or ShotConfig()
    where = location(source)
    segments = plan_segments(where, config, start_ns, end_ns)
    if len(segments) == 1:
        frames = read_frames(where, size=config.size, start_ns=start_ns, end_ns=end_ns,
                             threads=config.decoder_threads)
        return _shots(*_scan(prefetched(frames), config))
    context = multiprocessing.get_context("fork")  # children inherit the loaded decoders
    with ProcessPoolExecutor(len(segments), mp_context=context) as pool:
        parts = list(pool.map(_scan_segment, [(where, config, a, b) for a, b in segments]))
    starts = [pts for part in parts for pts in part[0]]
    cuts = set().union(*(part[2] for part in parts))
    return _shots(starts, parts[-1][1], cuts)


def shots_from_frames(frames: Iterable[Frame], config: ShotConfig | None = None
                      ) -> list[Shot]:
    """Shots of a run of consecutive canonical RGB frames (every frame, not sampled)."""
    return _shots(*_scan(frames, config or ShotConfig()))


def plan_segments(where: str, config: ShotConfig, start_ns: int | None = None,
                  end_ns: int | None = None) -> list[tuple[int | None, int | None]]:
    """The time segments to scan in parallel: the whole range when short or when one
    worker is asked for (or this process may not start others)."""
    workers = config.workers or os.cpu_count() or 1
    if workers == 1 or multiprocessing.current_process().daemon:
        return [(start_ns, end_ns)]
    with open_media(where) as container:
        duration = container.duration  # microseconds, from the header; None if unknown
    if not duration:
        return [(start_ns, end_ns)]
    first = start_ns or 0
    last = min(end_ns, duration * 1000) if end_ns is not None else duration * 1000
    count = min(workers, int((last - first) // _MIN_SEGMENT_NS))
    if count < 2:
        return [(start_ns, end_ns)]
    edges = [first + (last - first) * i // count for i in range(count + 1)]
    bounds: list[tuple[int | None, int | None]] = list(pairwise(edges))
    bounds[0] = (start_ns, bounds[0][1])
    bounds[-1] = (bounds[-1][0], end_ns)  # the last segment runs to the real end
    return bounds


_MIN_SEGMENT_NS = 15 * NS  # shorter segments cost more in start-up than they save
_MARGIN_NS = 2 * NS  # context read around a segment: > min_shot_s and the adaptive window


def _scan_segment(job: tuple[str, ShotConfig, int | None, int | None]
                  ) -> tuple[list[int], int, set[int]]:
    """One segment's frame times, end and cuts (only those inside the segment)."""
    where, config, start, end = job
    lead = None if start is None else max(start - _MARGIN_NS, 0)
    tail = None if end is None else end + _MARGIN_NS
    frames = read_frames(where, size=config.size, start_ns=lead, end_ns=tail,
                         threads=config.decoder_threads)
    starts, last_end, cuts = _scan(prefetched(frames), config)
    low, high = start or 0, end if end is not None else last_end + 1
    own = [pts for pts in starts if low <= pts < high]
    finish = last_end if end is None else min(last_end, high)
    return own, finish, {pts for pts in cuts if low <= pts < high}


def _scan(frames: Iterable[Frame], config: ShotConfig) -> tuple[list[int], int, set[int]]:
    """Feed the frames to a fresh detector: (every frame's pts, where the last ends, the pts
    of every frame the detector starts a new shot at)."""
    import cv2
    from scenedetect.common import FrameTimecode, Timecode

    detector = config.build()
    nanoseconds = Fraction(1, NS)
    starts: list[int] = []  # pts of every frame, by index
    rate: Fraction | None = None
    cuts: list[Any] = []
    end = 0
    timecode = None
    for frame in frames:
        if rate is None:  # nominal only: the detectors compare exact times
            rate = Fraction(NS, frame.duration_ns) if frame.duration_ns > 0 else Fraction(25)
        timecode = FrameTimecode(Timecode(frame.pts_ns, nanoseconds), fps=rate)
        picture = cv2.cvtColor(frame.image, cv2.COLOR_RGB2BGR)  # PySceneDetect wants BGR
        cuts.extend(detector.process_frame(timecode, picture))
        starts.append(frame.pts_ns)
        end = frame.pts_ns + frame.duration_ns
    if timecode is not None:
        cuts.extend(detector.post_process(timecode))
    return starts, end, {int(c.pts) for c in cuts}


def _shots(starts: list[int], end: int, cuts: set[int]) -> list[Shot]:
    if not starts:
        return []
    index_of = {pts: i for i, pts in enumerate(starts)}
    firsts = sorted({index_of[c] for c in cuts if c in index_of} - {0})
    bounds = [0, *firsts, len(starts)]
    return [Shot(n, a, b, starts[a], starts[b] if b < len(starts) else end)
            for n, (a, b) in enumerate(pairwise(bounds))]


def cut_frames(shots: Iterable[Shot]) -> list[int]:
    """The first frame of every shot but the first: where the cuts are."""
    return [shot.start_frame for shot in shots if shot.index > 0]
