"""Per-shot descriptors for match cutting, each computed from a shot's canonical frames.

- ``subject_mask``: where the subject sits, without weights: spectral-residual saliency
  (Hou & Zhang, CVPR 2007) of each frame, thresholded at its mean plus two standard
  deviations, averaged over the shot on a 16x16 grid (values in [0, 1]). Compared by IoU.
- ``FaceDetector.grid``: the same 16x16 grid filled by the face boxes MTCNN finds
  (facenet-pytorch, which ships its weights) in a few frames of the shot; all zeros without
  faces. facenet-pytorch is imported through ``faces_shim`` (its two torchvision functions
  stood in for: no torchvision matches the pinned CPU torch); where it is missing the
  detector says so (``FacesUnavailable``).
- ``motion_histogram``: Farneback optical flow between consecutive frames, split into camera
  motion (the median flow vector) and subject motion (flow minus the camera's, where it
  moves): a direction (8) x speed (3) histogram of each, averaged over the shot, plus a
  constant anchor so still shots are alike; L2-normalised. Compared by cosine.
- ``cut_ends``: a cut joins A's last frames to B's first, while the descriptors above average
  the whole shot; this one is the subject mask and the motion histogram of the shot's first
  and of its last ``END_FRAMES`` frames (start mask, end mask, start motion, end motion).

Frames are canonical RGB ``uint8`` arrays ``(H, W, 3)`` in presentation order.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise
from typing import Any

import numpy as np
import numpy.typing as npt

from reelgraph.core import InvalidInput, ReelgraphError

GRID = 16
MASK_DIM = GRID * GRID
DIRECTIONS = 8
SPEEDS = (0.25, 1.0)  # speed bin edges, in REFERENCE_MOTION units (slow | medium | fast)
MOTION_DIM = 2 * DIRECTIONS * (len(SPEEDS) + 1) + 1
# Where the motion vector's parts are: camera histogram, subject histogram, still anchor.
CAMERA = slice(0, DIRECTIONS * (len(SPEEDS) + 1))
SUBJECT = slice(CAMERA.stop, 2 * CAMERA.stop)
REFERENCE_MOTION = 0.02  # 2% of the longer side per step
MOVING = 0.25  # subject pixels move at least this much faster than the camera (same units)
_SALIENCY_SIDE = 64
_FLOW_SIDE = 128
_FACE_FRAMES = 3
END_FRAMES = 3  # at the matchcut sampling rate (4 frames/s): the shot's first / last ~0.5 s
CUT_ENDS_DIM = 2 * MASK_DIM + 2 * MOTION_DIM
# Where the cut-ends vector's parts are.
START_MASK = slice(0, MASK_DIM)
END_MASK = slice(MASK_DIM, 2 * MASK_DIM)
START_MOTION = slice(2 * MASK_DIM, 2 * MASK_DIM + MOTION_DIM)
END_MOTION = slice(2 * MASK_DIM + MOTION_DIM, CUT_ENDS_DIM)

Frames = Sequence[npt.NDArray[np.uint8]]
Grid = npt.NDArray[np.float32]


def _checked(frames: Frames) -> Frames:
    if len(frames) == 0:
        raise InvalidInput("a shot with no frames has no descriptor",
                           "pass at least one canonical RGB frame")
    return frames


def _saliency(frame: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
    import cv2

    grey = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
    small = cv2.resize(grey, (_SALIENCY_SIDE, _SALIENCY_SIDE),
                       interpolation=cv2.INTER_AREA).astype(np.float32)
    spectrum = np.fft.fft2(small)
    log_amplitude = np.log(np.abs(spectrum) + 1e-6).astype(np.float32)
    residual = log_amplitude - cv2.blur(log_amplitude, (3, 3))
    back = np.fft.ifft2(np.exp(residual + 1j * np.angle(spectrum)))
    saliency = cv2.GaussianBlur((np.abs(back) ** 2).astype(np.float32), (9, 9), 2.5)
    return np.asarray(saliency, dtype=np.float32)


def subject_mask(frames: Frames) -> Grid:
    """The share of the shot's frames in which each grid cell is salient (16x16, flat)."""
    import cv2

    masks = []
    for frame in _checked(frames):
        saliency = _saliency(frame)
        binary = (saliency > saliency.mean() + 2 * saliency.std()).astype(np.float32)
        masks.append(cv2.resize(binary, (GRID, GRID), interpolation=cv2.INTER_AREA))
    return np.asarray(np.mean(masks, axis=0).reshape(-1), dtype=np.float32)


def soft_iou(a: npt.ArrayLike, b: npt.ArrayLike) -> float:
    """Intersection over union of two soft masks (min over max); 0 when both are empty."""
    x, y = np.asarray(a, dtype=np.float32), np.asarray(b, dtype=np.float32)
    union = float(np.maximum(x, y).sum())
    return float(np.minimum(x, y).sum()) / union if union > 1e-6 else 0.0


class FacesUnavailable(ReelgraphError):
    status_code = 500


class FaceDetector:
    """MTCNN face boxes (facenet-pytorch's bundled weights, CPU); loaded once per instance."""

    def __init__(self) -> None:
        from reelgraph.matchcut.faces_shim import import_mtcnn

        try:
            MTCNN = import_mtcnn()
        except Exception as exc:  # facenet-pytorch missing or failing to load
            raise FacesUnavailable(
                f"face boxes need facenet-pytorch ({exc})",
                "pip install facenet-pytorch==2.6.0 --no-deps (its weights ship in the "
                "wheel; torchvision is not needed), or run without faces (faces=False, "
                "the default; --faces off)") from None
        self._mtcnn: Any = MTCNN(keep_all=True, device="cpu", min_face_size=12)

    def boxes(self, frame: npt.NDArray[np.uint8]) -> list[tuple[float, float, float, float]]:
        """Face boxes as fractions of the frame: (left, top, right, bottom)."""
        from PIL import Image

        found, _ = self._mtcnn.detect(Image.fromarray(frame))
        if found is None:
            return []
        height, width = frame.shape[:2]
        return [(max(0.0, x0 / width), max(0.0, y0 / height), min(1.0, x1 / width),
                 min(1.0, y1 / height)) for x0, y0, x1, y1 in found.tolist()]

    def grid(self, frames: Frames) -> Grid:
        """The share of the sampled frames in which each cell is inside a face box."""
        chosen = _spread(len(_checked(frames)), _FACE_FRAMES)
        grid = np.zeros((GRID, GRID), dtype=np.float32)
        for index in chosen:
            cells = np.zeros((GRID, GRID), dtype=np.float32)
            for left, top, right, bottom in self.boxes(frames[index]):
                cells[int(top * GRID):max(int(top * GRID) + 1, round(bottom * GRID)),
                      int(left * GRID):max(int(left * GRID) + 1, round(right * GRID))] = 1.0
            grid += cells
        return np.asarray((grid / len(chosen)).reshape(-1), dtype=np.float32)


def _spread(count: int, wanted: int) -> list[int]:
    """Up to ``wanted`` indices spread evenly over ``range(count)``, middle first."""
    if count <= wanted:
        return list(range(count))
    return sorted({round((i + 0.5) * count / wanted - 0.5) for i in range(wanted)})


def _grey(frame: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    import cv2

    height, width = frame.shape[:2]
    scale = _FLOW_SIDE / max(height, width)
    size = (max(16, round(width * scale)), max(16, round(height * scale)))
    grey = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
    return np.asarray(cv2.resize(grey, size, interpolation=cv2.INTER_AREA), dtype=np.uint8)


def _histogram(dx: npt.NDArray[np.float32], dy: npt.NDArray[np.float32],
               weight: float) -> npt.NDArray[np.float32]:
    """Direction x speed histogram of flow vectors (each counted ``weight``); still vectors
    (below the first speed edge) fall in no bin."""
    speed = np.hypot(dx, dy)
    angle = np.degrees(np.arctan2(dy, dx)) % 360.0
    direction = ((angle + 180.0 / DIRECTIONS) // (360.0 / DIRECTIONS)).astype(np.int64)
    level = np.digitize(speed, SPEEDS)  # 0 slow, 1 medium, 2 fast
    moving = speed >= SPEEDS[0] * 0.2
    cells = (direction % DIRECTIONS) * (len(SPEEDS) + 1) + level
    counts = np.bincount(cells[moving].ravel(), minlength=DIRECTIONS * (len(SPEEDS) + 1))
    return counts.astype(np.float32) * np.float32(weight)


def _flow_statistics(previous: npt.NDArray[np.uint8], current: npt.NDArray[np.uint8]
                     ) -> npt.NDArray[np.float32]:
    import cv2

    if previous.shape != current.shape:
        current = np.asarray(cv2.resize(current, previous.shape[::-1]), dtype=np.uint8)
    flow = np.zeros((*previous.shape, 2), dtype=np.float32)
    flow = cv2.calcOpticalFlowFarneback(previous, current, flow, pyr_scale=0.5, levels=3,
                                        winsize=15, iterations=3, poly_n=5, poly_sigma=1.2,
                                        flags=0)
    flow = flow / np.float32(max(previous.shape) * REFERENCE_MOTION)
    camera = np.median(flow.reshape(-1, 2), axis=0)
    relative = flow - camera
    subject = np.hypot(relative[..., 0], relative[..., 1]) >= MOVING
    camera_part = _histogram(np.array([camera[0]], np.float32),
                             np.array([camera[1]], np.float32), 1.0)
    subject_part = _histogram(relative[..., 0][subject], relative[..., 1][subject],
                              4.0 / subject.size)  # a quarter of the frame moving weighs 1
    return np.concatenate([camera_part, subject_part])


def motion_histogram(frames: Frames) -> npt.NDArray[np.float32]:
    """Camera and subject motion of a shot (frames sampled at a fixed rate), L2-normalised."""
    greys = [_grey(frame) for frame in _checked(frames)]
    parts = [_flow_statistics(a, b) for a, b in pairwise(greys)]
    motion = np.mean(parts, axis=0) if parts else np.zeros(MOTION_DIM - 1, np.float32)
    row = np.concatenate([motion, np.array([0.25], np.float32)]).astype(np.float32)
    return np.asarray(row / np.linalg.norm(row), dtype=np.float32)


def cut_ends(frames: Frames) -> npt.NDArray[np.float32]:
    """Subject mask and motion of the shot's start and of its end (``START_MASK``,
    ``END_MASK``, ``START_MOTION``, ``END_MOTION``); a short shot's ends overlap."""
    frames = _checked(frames)
    start, end = frames[:END_FRAMES], frames[-END_FRAMES:]
    return np.concatenate([subject_mask(start), subject_mask(end), motion_histogram(start),
                           motion_histogram(end)]).astype(np.float32)


def cosine(a: npt.ArrayLike, b: npt.ArrayLike) -> float:
    x, y = np.asarray(a, dtype=np.float32), np.asarray(b, dtype=np.float32)
    norm = float(np.linalg.norm(x) * np.linalg.norm(y))
    return float(x @ y) / norm if norm > 0 else 0.0
