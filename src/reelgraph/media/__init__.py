"""Media: assets, standardized access, shot segmentation and annotations.

Object model: a video or audio file becomes a ``MediaAsset`` (a ``media_asset`` graph node
named by its content's sha256, its ``MediaProbe`` as properties) through ``MediaLibrary``.
``read_frames`` is the one way to get pictures out of any container and codec: canonical
RGB ``Frame``s at a chosen rate and size, with exact nanosecond timestamps, streamed.
``ProxyCache`` keeps an asset's canonical frames (a ``FrameBatch``) in the artifact store so
they are decoded once. ``detect_shots`` segments a video into ``Shot``s with PySceneDetect's
detectors fed those frames (``ShotConfig``); ``score_cuts`` grades detected cuts against
labelled ones (``CutScore``). ``admit_media`` keeps network callers under the configured
media roots. Unreadable files raise ``MediaError``. PyAV, OpenCV and
PySceneDetect are imported on first use, not with this package.
"""

from reelgraph.media.assets import MediaAsset, MediaLibrary
from reelgraph.media.errors import MediaError
from reelgraph.media.evaluation import CutScore, score_cuts
from reelgraph.media.frames import Frame, FrameBatch, FrameSpec, read_frames
from reelgraph.media.probe import MediaProbe, probe
from reelgraph.media.proxies import ProxyCache
from reelgraph.media.roots import OutsideMediaRoots, admit_media
from reelgraph.media.shots import Shot, ShotConfig, detect_shots, shots_from_frames

__all__ = [
    "CutScore",
    "Frame",
    "FrameBatch",
    "FrameSpec",
    "MediaAsset",
    "MediaError",
    "MediaLibrary",
    "MediaProbe",
    "OutsideMediaRoots",
    "ProxyCache",
    "Shot",
    "ShotConfig",
    "admit_media",
    "detect_shots",
    "probe",
    "read_frames",
    "score_cuts",
    "shots_from_frames",
]
