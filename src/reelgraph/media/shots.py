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

from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction
from itertools import pairwise
from typing import Any, Literal

from reelgraph.core.errors import InvalidInput, MissingDependency
from reelgraph.media.frames import Frame, read_frames
from reelgraph.media.prefetch import prefetched
from reelgraph.media.probe import NS
from reelgraph.media.source import Source

Detector = Literal["content", "adaptive"]


@dataclass(frozen=True)
class ShotConfig:
    detector: Detector = "content"
    threshold: float = 27.0  # content: the frame score that makes a cut
    adaptive_threshold: float = 3.0  # adaptive: score / mean score of the neighbours
    min_content_val: float = 15.0  # adaptive: the least frame score that can be a cut
    window_width: int = 2  # adaptive: neighbours on each side
    min_shot_s: float = 0.6  # shortest shot, as PySceneDetect's command line has it
    luma_only: bool = False
    size: int = 96  # short side, in pixels, of the frames the detector sees
    decoder_threads: int | None = None  # None: FFmpeg's automatic threading (see read_frames)

    def __post_init__(self) -> None:
        if self.detector not in ("content", "adaptive"):
            raise InvalidInput(f"unknown shot detector {self.detector!r}",
                               "use detector='content' or detector='adaptive'")
        if self.size < 16 or self.window_width < 1 or self.min_shot_s < 0:
            raise InvalidInput(
                f"shot settings out of range (size={self.size}, window_width="
                f"{self.window_width}, min_shot_s={self.min_shot_s})",
                "use size >= 16, window_width >= 1 and min_shot_s >= 0")

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
    """Segment a video (or the part ``[start_ns, end_ns)`` of it) into shots."""
    config = config or ShotConfig()
    frames = read_frames(source, size=config.size, start_ns=start_ns, end_ns=end_ns,
                         threads=config.decoder_threads)
    return shots_from_frames(prefetched(frames), config)


def shots_from_frames(frames: Iterable[Frame], config: ShotConfig | None = None
                      ) -> list[Shot]:
    """Shots of a run of consecutive canonical RGB frames (every frame, not sampled)."""
    import cv2
    from scenedetect.common import FrameTimecode, Timecode

    config = config or ShotConfig()
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
    if timecode is None:
        return []
    cuts.extend(detector.post_process(timecode))
    index_of = {pts: i for i, pts in enumerate(starts)}
    firsts = sorted({index_of[c.pts] for c in cuts if c.pts in index_of} - {0})
    bounds = [0, *firsts, len(starts)]
    return [Shot(n, a, b, starts[a], starts[b] if b < len(starts) else end)
            for n, (a, b) in enumerate(pairwise(bounds))]


def cut_frames(shots: Iterable[Shot]) -> list[int]:
    """The first frame of every shot but the first: where the cuts are."""
    return [shot.start_frame for shot in shots if shot.index > 0]
