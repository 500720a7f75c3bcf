"""Import facenet-pytorch's MTCNN without torchvision.

facenet-pytorch's face detector needs two things from torchvision: ``batched_nms`` (boxes
of one image suppressed by IoU) and ``to_tensor``. torchvision's wheels must match the torch
build exactly, and the one this project pins (CPU torch) has no matching torchvision on the
package index it installs from, so importing facenet-pytorch fails. ``import_mtcnn`` puts a
two-function stand-in under ``torchvision`` only while facenet-pytorch's modules are being
imported (they keep the functions they imported) and removes it again, so no other code ever
sees a fake torchvision; a real torchvision, where installed, is used as it is.
"""

from __future__ import annotations

import sys
import types
from typing import Any

_NAMES = ("torchvision", "torchvision.ops", "torchvision.ops.boxes", "torchvision.transforms",
          "torchvision.transforms.functional")


def batched_nms(boxes: Any, scores: Any, groups: Any, iou_threshold: float) -> Any:
    """Indices of the boxes kept by non-maximum suppression within each group, by
    decreasing score (torchvision's semantics: a box is dropped when it overlaps a kept,
    higher-scoring box of its group by more than ``iou_threshold``)."""
    import torch

    if boxes.numel() == 0:
        return torch.empty(0, dtype=torch.int64, device=boxes.device)
    # Offsetting each group's boxes apart makes one pass of plain NMS per-group NMS.
    offsets = groups.to(boxes) * (boxes.max() + 1)
    shifted = boxes + offsets[:, None]
    order = torch.argsort(scores, descending=True)
    x0, y0, x1, y1 = shifted.unbind(dim=1)
    areas = (x1 - x0).clamp(min=0) * (y1 - y0).clamp(min=0)
    suppressed = torch.zeros(len(boxes), dtype=torch.bool, device=boxes.device)
    keep = []
    for index in order.tolist():
        if suppressed[index]:
            continue
        keep.append(index)
        width = (torch.minimum(x1, x1[index]) - torch.maximum(x0, x0[index])).clamp(min=0)
        height = (torch.minimum(y1, y1[index]) - torch.maximum(y0, y0[index])).clamp(min=0)
        overlap = width * height
        iou = overlap / (areas + areas[index] - overlap).clamp(min=1e-12)
        suppressed |= iou > iou_threshold
    return torch.tensor(keep, dtype=torch.int64, device=boxes.device)


def to_tensor(picture: Any) -> Any:
    """An HxWxC array (or PIL image) as a CxHxW float tensor (uint8 scaled to [0, 1])."""
    import numpy as np
    import torch

    array = np.asarray(picture)
    tensor = torch.from_numpy(np.ascontiguousarray(array.transpose(2, 0, 1)))
    return tensor.float().div(255.0) if array.dtype == np.uint8 else tensor


def _stand_in() -> dict[str, types.ModuleType]:
    modules = {name: types.ModuleType(name) for name in _NAMES}
    modules["torchvision.ops.boxes"].batched_nms = batched_nms  # type: ignore[attr-defined]
    modules["torchvision.transforms.functional"].to_tensor = to_tensor  # type: ignore[attr-defined]
    for name, module in modules.items():
        parent, _, child = name.rpartition(".")
        if parent:
            setattr(modules[parent], child, module)
    return modules


def import_mtcnn() -> Any:
    """facenet-pytorch's ``MTCNN`` class (ImportError when facenet-pytorch is missing)."""
    try:
        import torchvision  # type: ignore[import-not-found]  # noqa: F401  (a real one wins)
    except Exception:  # missing, or built for another torch
        for name in _NAMES:
            sys.modules.pop(name, None)
        stand_in = _stand_in()
        sys.modules.update(stand_in)
        try:
            from facenet_pytorch.models.mtcnn import MTCNN
        finally:
            for name in _NAMES:
                if sys.modules.get(name) is stand_in[name]:
                    del sys.modules[name]
        return MTCNN
    from facenet_pytorch.models.mtcnn import MTCNN

    return MTCNN
