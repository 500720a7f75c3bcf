"""The embedder seam: a ``FrameEmbedder`` turns canonical frames into float32 vectors.

A canonical frame is an RGB ``uint8`` array of shape ``(H, W, 3)``. Embedders take frames in
presentation order (the order matters to motion) as a list of such arrays or one
``(n, H, W, 3)`` array, and return one L2-normalised float32 row per frame, shape
``(n, dim)``. Frames within one call may differ in size. Timestamps stay with the caller:
embedders see pixels only, so they never depend on how the frames were decoded.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, TypeAlias, runtime_checkable

import numpy as np
import numpy.typing as npt

from reelgraph.core import InvalidInput, ReelgraphError

Frame: TypeAlias = npt.NDArray[np.uint8]
Frames: TypeAlias = Sequence[Frame] | Frame
Vectors: TypeAlias = npt.NDArray[np.float32]


class EmbedderUnavailable(ReelgraphError):
    """An embedder needs something this machine does not have (a package, model weights)."""

    status_code = 500


@runtime_checkable
class FrameEmbedder(Protocol):
    """Maps frames to vectors.

    ``name`` and ``version`` identify the vectors: a vector made by one (name, version) is
    comparable with another made by the same pair, and a change to what an embedder
    computes must change ``version`` (memoized features key on it).
    """

    @property
    def name(self) -> str:
        """What computes the vectors (e.g. ``clip-vit-b-32``)."""
        ...

    @property
    def version(self) -> str:
        """Changes whenever the vectors would (weights, preprocessing)."""
        ...

    @property
    def dim(self) -> int:
        """The length of every vector."""
        ...

    def embed(self, frames: Frames) -> Vectors:
        """One L2-normalised float32 row per frame, shape ``(len(frames), dim)``."""
        ...


def check_frames(frames: Frames) -> list[Frame]:
    """Validate canonical frames and return them as a list of contiguous ``(H, W, 3)`` arrays.

    Raises ``InvalidInput`` for no frames, a dtype other than ``uint8``, or a shape other
    than ``(H, W, 3)`` per frame.
    """
    if isinstance(frames, np.ndarray):
        if frames.ndim != 4:
            raise InvalidInput(
                f"frames must be a list of (H, W, 3) arrays or one (n, H, W, 3) array, "
                f"got an array of shape {frames.shape}",
                "pass [frame] for a single frame, or stack frames into an (n, H, W, 3) array",
            )
        items: Sequence[object] = list(frames)
    elif isinstance(frames, Sequence) and not isinstance(frames, str | bytes):
        items = frames
    else:
        raise InvalidInput(
            f"frames must be a list of numpy arrays, got {type(frames).__name__}",
            "pass RGB uint8 arrays of shape (H, W, 3), e.g. frame.to_ndarray(format='rgb24')",
        )
    if len(items) == 0:
        raise InvalidInput("no frames to embed", "pass at least one frame")
    checked: list[Frame] = []
    for index, item in enumerate(items):
        if not isinstance(item, np.ndarray):
            raise InvalidInput(
                f"frame {index} is a {type(item).__name__}, not a numpy array",
                "pass RGB uint8 arrays of shape (H, W, 3)",
            )
        if item.dtype != np.uint8:
            raise InvalidInput(
                f"frame {index} has dtype {item.dtype}, expected uint8",
                "pass 8-bit RGB frames (e.g. np.clip(x * 255, 0, 255).astype(np.uint8) "
                "for floats in [0, 1])",
            )
        if item.ndim != 3 or item.shape[2] != 3 or item.shape[0] < 1 or item.shape[1] < 1:
            raise InvalidInput(
                f"frame {index} has shape {item.shape}, expected (H, W, 3) RGB",
                "convert the frame to RGB (e.g. frame.to_ndarray(format='rgb24') in PyAV)",
            )
        checked.append(np.ascontiguousarray(item))
    return checked


def normalize_rows(rows: npt.NDArray[np.floating]) -> Vectors:
    """L2-normalise each row; an all-zero row stays zero."""
    values = np.asarray(rows, dtype=np.float32)
    norms = np.linalg.norm(values, axis=-1, keepdims=True)
    normalized: Vectors = np.zeros_like(values)
    np.divide(values, norms, out=normalized, where=norms > 0)
    return normalized


def embed_shot(embedder: FrameEmbedder, frames: Frames) -> Vectors:
    """A shot's vector: the mean of its frames' rows, L2-normalised, shape ``(dim,)``.

    Pass the shot's sampled frames in presentation order. The result is float32; it is
    all zeros only if the rows cancel out exactly.
    """
    rows = embedder.embed(frames)
    count = len(frames)
    if rows.ndim != 2 or rows.shape != (count, embedder.dim) or rows.dtype != np.float32:
        raise InvalidInput(
            f"embedder {embedder.name!r} returned {rows.dtype} rows of shape {rows.shape}, "
            f"expected float32 rows of shape ({count}, {embedder.dim})",
            f"fix {type(embedder).__name__}.embed to return one float32 row per frame",
        )
    return normalize_rows(rows.mean(axis=0, dtype=np.float64))
