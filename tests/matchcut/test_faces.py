"""MTCNN face boxes through facenet-pytorch without torchvision: the stand-in NMS behaves
like torchvision's, the stand-in never outlives the import, and a real face is found in a
real frame of a shared clip (and none in a flat frame)."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import torch
from shared_data import SHARED_DATA, missing

from reelgraph.matchcut.descriptors import MASK_DIM, FaceDetector
from reelgraph.matchcut.faces_shim import batched_nms
from reelgraph.media import read_frames

CLIP = SHARED_DATA / "video" / "friday.mp4"


def test_batched_nms_suppresses_overlaps_within_a_group_only() -> None:
    boxes = torch.tensor([[0, 0, 10, 10], [1, 1, 11, 11], [0, 0, 10, 10], [20, 20, 30, 30]],
                         dtype=torch.float32)
    scores = torch.tensor([0.9, 0.8, 0.7, 0.6])
    groups = torch.tensor([0, 0, 1, 0])
    # box 1 overlaps box 0 (IoU 0.68) in group 0; box 2 is the same place in another group
    assert batched_nms(boxes, scores, groups, 0.5).tolist() == [0, 2, 3]
    assert batched_nms(boxes, scores, groups, 0.7).tolist() == [0, 1, 2, 3]
    assert batched_nms(boxes[:0], scores[:0], groups[:0], 0.5).tolist() == []


@pytest.fixture(scope="module")
def detector() -> FaceDetector:
    return FaceDetector()


def test_the_stand_in_does_not_outlive_the_import(detector: FaceDetector) -> None:
    module = sys.modules.get("torchvision")
    assert module is None or hasattr(module, "__file__")  # a real torchvision, or none


@pytest.mark.skipif(not CLIP.exists(), reason=missing(CLIP))
def test_a_real_face_is_found_and_a_flat_frame_has_none(detector: FaceDetector) -> None:
    frame = next(iter(read_frames(CLIP, size=360, start_ns=2_000_000_000)))
    boxes = detector.boxes(frame.image)
    assert len(boxes) >= 1
    left, top, right, bottom = boxes[0]
    assert 0 <= left < right <= 1 and 0 <= top < bottom <= 1
    assert (right - left) * (bottom - top) < 0.25  # a face, not the whole frame
    grid = detector.grid([frame.image])
    assert grid.shape == (MASK_DIM,) and grid.max() == 1.0
    assert detector.boxes(np.full((360, 640, 3), 128, np.uint8)) == []
