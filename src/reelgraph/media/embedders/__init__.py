"""Frame embedders: canonical RGB frames in, one L2-normalised float32 vector per frame out.

- ``FrameEmbedder`` is the seam (``name``, ``version``, ``dim``, ``embed``); ``embed_shot``
  turns a shot's frames into one vector (their mean, L2-normalised).
- ``FramingEmbedder`` ("framing"): where luminance, edges and colour sit; no weights.
- ``MotionEmbedder`` ("motion"): optical-flow direction and speed; no weights.
- ``ClipEmbedder`` ("clip"): OpenCLIP semantics, only with open_clip and local weights.
- ``embedder(name)`` builds any of them by name.

Embedders see pixels only (no timestamps, no decoding), and validate them with
``check_frames``: bad input raises ``reelgraph.core.errors.InvalidInput``.
"""

from reelgraph.media.embedders.clip import ClipEmbedder
from reelgraph.media.embedders.framing import FramingEmbedder
from reelgraph.media.embedders.motion import MotionEmbedder
from reelgraph.media.embedders.ports import (
    EmbedderUnavailable,
    FrameEmbedder,
    check_frames,
    embed_shot,
)
from reelgraph.media.embedders.registry import EMBEDDER_NAMES, embedder

__all__ = [
    "EMBEDDER_NAMES",
    "ClipEmbedder",
    "EmbedderUnavailable",
    "FrameEmbedder",
    "FramingEmbedder",
    "MotionEmbedder",
    "check_frames",
    "embed_shot",
    "embedder",
]
