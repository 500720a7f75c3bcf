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

from reelgraph.media.annotations import Annotation, AnnotationStore, Producer
from reelgraph.media.assets import DEFAULT_NAMESPACE, MediaAsset, MediaLibrary
from reelgraph.media.catalog import MAX_FPS, MAX_SIZE, MediaCatalog, png
from reelgraph.media.contact_sheet import format_timestamp
from reelgraph.media.embedders import FramingEmbedder, embed_shot
from reelgraph.media.errors import MediaError
from reelgraph.media.evaluation import CutScore, score_cuts
from reelgraph.media.frames import Frame, FrameBatch, FrameSpec, read_frames
from reelgraph.media.pipeline import PRODUCER as SHOTS_PRODUCER
from reelgraph.media.pipeline import contact_sheet_key, ingest_flow, register, shot_features
from reelgraph.media.probe import MediaProbe, probe
from reelgraph.media.proxies import ProxyCache
from reelgraph.media.roots import OutsideMediaRoots, admit_media
from reelgraph.media.shots import Shot, ShotConfig, detect_shots, shots_from_frames

__all__ = [
    "DEFAULT_NAMESPACE",
    "MAX_FPS",
    "MAX_SIZE",
    "SHOTS_PRODUCER",
    "Annotation",
    "AnnotationStore",
    "CutScore",
    "Frame",
    "FrameBatch",
    "FrameSpec",
    "FramingEmbedder",
    "MediaAsset",
    "MediaCatalog",
    "MediaError",
    "MediaLibrary",
    "MediaProbe",
    "OutsideMediaRoots",
    "Producer",
    "ProxyCache",
    "Shot",
    "ShotConfig",
    "admit_media",
    "contact_sheet_key",
    "detect_shots",
    "embed_shot",
    "format_timestamp",
    "ingest_flow",
    "png",
    "probe",
    "read_frames",
    "register",
    "score_cuts",
    "shot_features",
    "shots_from_frames",
]
