"""The framing descriptor: where light, edges and colour sit in the frame.

Each frame is resized to 64x64 (whatever its aspect ratio, so positions are relative to the
frame) and described by three parts, each L2-normalised on its own so that none dominates:

- luminance layout: a 16x16 grid of grey levels minus their mean, so brightening or
  darkening a frame barely moves it (256 values);
- edge layout: an 8x8 grid of mean Sobel gradient magnitude (64 values);
- colour layout: a 4x4 grid of mean CIELAB a*/b* chroma, 0 for neutral greys (32 values).

A part with almost no signal (a flat frame, a grey frame's colour) is scaled by a floor
instead of its own norm, so noise is not blown up to full weight. A constant last value (the
anchor) keeps featureless frames such as black ones alike instead of zero. The row is then
L2-normalised. The same pixels always give the same bytes.

Good for "similar composition" (match cutting); blind to what the objects are.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from reelgraph.media.embedders.ports import Frames, Vectors, check_frames, normalize_rows

WORK_SIZE = 64
LUMA_GRID = 16
EDGE_GRID = 8
COLOUR_GRID = 4
# Root-mean-square values below which a part counts as flat (see _part).
LUMA_FLOOR = 0.01  # grey levels in [0, 1]
EDGE_FLOOR = 0.02  # Sobel magnitude of grey levels in [0, 1]
COLOUR_FLOOR = 0.02  # a*/b* divided by 128
ANCHOR = 0.1


def _part(values: npt.ArrayLike, rms_floor: float) -> npt.NDArray[np.float32]:
    flat = np.asarray(values, dtype=np.float32).reshape(-1)
    scale = max(float(np.linalg.norm(flat)), rms_floor * math.sqrt(flat.size))
    return flat / np.float32(scale)


class FramingEmbedder:
    """Spatial layout of luminance, edges and colour; deterministic, no weights."""

    name = "framing"
    version = "1"
    dim = LUMA_GRID**2 + EDGE_GRID**2 + COLOUR_GRID**2 * 2 + 1

    def embed(self, frames: Frames) -> Vectors:
        checked = check_frames(frames)
        rows = np.stack([self._describe(frame) for frame in checked])
        return normalize_rows(rows)

    def _describe(self, frame: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
        import cv2

        area = cv2.INTER_AREA
        small = cv2.resize(frame, (WORK_SIZE, WORK_SIZE), interpolation=area)
        rgb = small.astype(np.float32) / np.float32(255.0)
        grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)

        luma = cv2.resize(grey, (LUMA_GRID, LUMA_GRID), interpolation=area)
        luma = luma - luma.mean()

        gx = cv2.Sobel(grey, cv2.CV_32F, 1, 0, ksize=3)
        gy = cv2.Sobel(grey, cv2.CV_32F, 0, 1, ksize=3)
        edges = cv2.resize(cv2.magnitude(gx, gy), (EDGE_GRID, EDGE_GRID), interpolation=area)

        lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2Lab)  # float input: a*, b* roughly in ±128
        chroma = cv2.resize(lab[:, :, 1:], (COLOUR_GRID, COLOUR_GRID), interpolation=area)
        chroma = chroma / np.float32(128.0)

        return np.concatenate([
            _part(luma, LUMA_FLOOR),
            _part(edges, EDGE_FLOOR),
            _part(chroma, COLOUR_FLOOR),
            np.array([ANCHOR], dtype=np.float32),
        ])
