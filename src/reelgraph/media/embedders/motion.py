"""The motion descriptor: statistics of dense optical flow between consecutive frames.

Consecutive frames are converted to grey, resized so the longer side is 128 pixels (both to
the first frame's size, so frames of mixed sizes still pair up) and compared with
Farneback's dense optical flow (OpenCV). Flow is measured in fractions of the longer side
per step, then divided by ``REFERENCE_MOTION``, so descriptors do not depend on resolution.
One flow field gives:

- a direction histogram: 8 bins of flow direction (bin 0 is rightwards, then clockwise in
  image coordinates: down-right, down, …), each the summed magnitude of the pixels pointing
  that way divided by the pixel count (8 values);
- the mean and standard deviation of the flow magnitude (2 values);
- a 4x4 grid of mean flow (dx, dy) per cell, divided by 4 so that the grid of a uniform
  motion weighs as much as its direction histogram (32 values);
- a constant anchor of 1, so a still pair is ``(0, …, 0, 1)`` rather than normalised
  noise, and the cosine between rows reflects speed as well as direction (1 value).

The row is then L2-normalised. Row ``i`` describes the motion into frame ``i`` (the flow from
frame ``i-1``); frame 0 has no predecessor, so its row is the flow to frame 1. A single frame
has no motion: it gets the zero-motion row ``(0, …, 0, 1)``. Motion is per step between the
frames given, so sample frames at a fixed rate for descriptors that compare across shots.
"""

from __future__ import annotations

import itertools

import numpy as np
import numpy.typing as npt

from reelgraph.media.embedders.ports import Frames, Vectors, check_frames, normalize_rows

WORK_SIDE = 128  # pixels along the longer side
DIRECTION_BINS = 8
FLOW_GRID = 4
REFERENCE_MOTION = 0.02  # 2% of the frame per step weighs as much as the anchor
DIM = DIRECTION_BINS + 2 + FLOW_GRID**2 * 2 + 1


def _grey(frame: npt.NDArray[np.uint8], size: tuple[int, int]) -> npt.NDArray[np.uint8]:
    import cv2

    grey = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
    return np.asarray(cv2.resize(grey, size, interpolation=cv2.INTER_AREA), dtype=np.uint8)


def _work_size(frame: npt.NDArray[np.uint8]) -> tuple[int, int]:
    height, width = frame.shape[:2]
    scale = WORK_SIDE / max(height, width)
    # At least 16 pixels a side, so the flow pyramid has room even for very thin frames.
    return max(16, round(width * scale)), max(16, round(height * scale))  # (width, height)


def _still() -> npt.NDArray[np.float32]:
    row = np.zeros(DIM, dtype=np.float32)
    row[-1] = 1.0
    return row


def _describe(previous: npt.NDArray[np.uint8], current: npt.NDArray[np.uint8]
              ) -> npt.NDArray[np.float32]:
    import cv2

    flow = np.zeros((*previous.shape, 2), dtype=np.float32)  # output only (flags=0)
    flow = cv2.calcOpticalFlowFarneback(
        previous, current, flow, pyr_scale=0.5, levels=3, winsize=15, iterations=3,
        poly_n=5, poly_sigma=1.2, flags=0,
    )
    flow = flow.astype(np.float32) / np.float32(max(previous.shape) * REFERENCE_MOTION)
    magnitude, angle = cv2.cartToPolar(flow[..., 0], flow[..., 1], angleInDegrees=True)
    # Shift by half a bin so bin 0 is centred on "rightwards" (0 degrees).
    bins = ((angle + 180.0 / DIRECTION_BINS) // (360.0 / DIRECTION_BINS)).astype(np.int64)
    directions = np.bincount(
        (bins % DIRECTION_BINS).ravel(), weights=magnitude.ravel(), minlength=DIRECTION_BINS
    ) / magnitude.size
    grid = cv2.resize(flow, (FLOW_GRID, FLOW_GRID), interpolation=cv2.INTER_AREA)
    return np.concatenate([
        directions.astype(np.float32),
        np.array([magnitude.mean(), magnitude.std()], dtype=np.float32),
        grid.astype(np.float32).reshape(-1) / np.float32(FLOW_GRID),
        np.array([1.0], dtype=np.float32),
    ])


class MotionEmbedder:
    """Dense optical-flow statistics; needs two or more frames to see any motion."""

    name = "motion"
    version = "1"
    dim = DIM

    def embed(self, frames: Frames) -> Vectors:
        checked = check_frames(frames)
        if len(checked) == 1:
            return _still()[np.newaxis, :]
        size = _work_size(checked[0])
        greys = [_grey(frame, size) for frame in checked]
        pairs = [_describe(a, b) for a, b in itertools.pairwise(greys)]
        rows = np.stack([pairs[0], *pairs])
        return normalize_rows(rows)

