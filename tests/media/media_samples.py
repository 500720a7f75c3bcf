"""Small synthetic videos with known content, written with PyAV for the media tests.

Each frame shows its shot's solid colour over the top three quarters (plus a small square
that moves, so no two frames are identical) and its own frame number as 8 black/white cells
across the bottom quarter, so a test can read back which source frame it was given. The
number is Gray-coded: consecutive frames differ in one cell, which a shot detector sees as a
small change, far below a cut.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

WIDTH, HEIGHT = 160, 96
BITS = 8
COLOURS = [(220, 40, 40), (20, 80, 20), (120, 170, 250), (90, 20, 90), (230, 220, 50),
           (20, 40, 110), (240, 140, 30), (40, 40, 40)]  # bright and dark in turn


@dataclass(frozen=True)
class Sample:
    path: Path
    frames: int
    cuts: tuple[int, ...]  # first frame of every shot but the first
    pts_ms: tuple[int, ...]  # each frame's presentation time in milliseconds
    codec: str


def picture(index: int, shot: int, width: int = WIDTH, height: int = HEIGHT) -> np.ndarray:
    image = np.zeros((height, width, 3), np.uint8)
    top = height * 3 // 4
    image[:top] = COLOURS[shot % len(COLOURS)]
    x = (index * 3) % (width - 16)
    image[8:24, x:x + 16] = 255 - np.array(COLOURS[shot % len(COLOURS)], np.uint8)
    cell = width // BITS
    gray = index ^ (index >> 1)
    for bit in range(BITS):
        if gray >> bit & 1:
            image[top:, bit * cell:(bit + 1) * cell] = 255
    return image


def read_index(image: np.ndarray) -> int:
    """The frame number drawn by ``picture``, read from any resized copy of it."""
    height, width = image.shape[:2]
    row = image[height * 7 // 8]
    gray = 0
    for bit in range(BITS):
        centre = int((bit + 0.5) * width / BITS)
        if row[centre].mean() > 128:
            gray |= 1 << bit
    value, shift = gray, gray >> 1
    while shift:
        value ^= shift
        shift >>= 1
    return value


def write(path: Path, codec: str, cuts: Sequence[int], frames: int, *, rate: int = 25,
          durations_ms: Sequence[int] | None = None, options: dict[str, str] | None = None,
          size: tuple[int, int] = (WIDTH, HEIGHT)) -> Sample:
    """Encode ``frames`` frames; with ``durations_ms`` the frame rate is variable."""
    width, height = size
    starts = [0, *cuts]
    pts_ms: list[int] = []
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=rate)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"  # type: ignore[union-attr]
        if options:
            stream.options = options  # type: ignore[assignment]
        if durations_ms is not None:
            stream.codec_context.time_base = Fraction(1, 1000)
            stream.time_base = Fraction(1, 1000)
        clock = 0
        for i in range(frames):
            shot = sum(1 for s in starts if s <= i) - 1
            frame = av.VideoFrame.from_ndarray(picture(i, shot, width, height), format="rgb24")
            if durations_ms is not None:
                frame.pts, frame.time_base = clock, Fraction(1, 1000)
                pts_ms.append(clock)
                clock += durations_ms[i % len(durations_ms)]
            else:
                pts_ms.append(round(i * 1000 / rate))
            container.mux(stream.encode(frame))  # type: ignore[arg-type, union-attr]
        container.mux(stream.encode(None))  # type: ignore[union-attr]
    return Sample(path, frames, tuple(cuts), tuple(pts_ms), codec)
