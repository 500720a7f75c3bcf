"""Match cutting's per-shot and per-pair features, memoized in the feature store.

Entity ``shot`` (key ``<asset sha256>:<shot index>``, as the media pipeline's) has five
features in namespace ``matchcut``: ``shot_framing`` (the media framing embedder's mean
vector), ``shot_mask`` (subject mask grid), ``shot_faces`` (face-box grid),
``shot_motion`` (camera/subject optical-flow histogram) and ``shot_ends`` (mask and motion
of the shot's first and last half second, where a cut joins it); framing and motion are replicated
to the vector index. Entity ``shot_pair`` (key ``<shot key>|<shot key>``, sorted) has
``pair_features``: every heuristic scorer's value for the pair (``PAIR_FEATURES``).

They are computed by ``ShotFeatures`` for the keys the store does not have yet and written
with ``materialize``: a second run finds them all and computes nothing. The functions
declared here only refuse on-demand compute (they need the decoded shot, not just a key).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from reelgraph.core import InvalidInput
from reelgraph.features import EntityType, FeatureSet, FeatureStore, Vector
from reelgraph.matchcut.descriptors import (
    CUT_ENDS_DIM,
    MASK_DIM,
    MOTION_DIM,
    FaceDetector,
    cut_ends,
    motion_histogram,
    subject_mask,
)
from reelgraph.matchcut.scorers import PAIR_FEATURES, ShotRecord, pair_features
from reelgraph.media import FramingEmbedder, embed_shot

SHOT = EntityType("shot", str)
PAIR = EntityType("shot_pair", str)
NAMESPACE = "matchcut"
# short name -> (dimension, vector-indexed, version)
SHOT_FEATURES: dict[str, tuple[int, bool, str]] = {
    "framing": (FramingEmbedder.dim, True, f"framing-{FramingEmbedder.version}"),
    "mask": (MASK_DIM, False, "saliency-1"),
    "faces": (MASK_DIM, False, "mtcnn-1"),
    "motion": (MOTION_DIM, True, "farneback-1"),
    "ends": (CUT_ENDS_DIM, False, "ends-1"),
}
PAIR_FEATURE = f"{NAMESPACE}/pair_features"
Frames = Sequence[npt.NDArray[np.uint8]]


def feature_name(short: str) -> str:
    return f"{NAMESPACE}/shot_{short}"


def _computed_by_matchcut(keys: list[str]) -> dict[str, Any]:
    raise InvalidInput("match-cut features are computed when titles are added, not on demand",
                       "run `reelgraph matchcut find` over the titles")


def matchcut_features(*, faces: bool = False) -> FeatureSet:
    """The feature set; without ``faces`` the face grid is a different version (all zeros,
    no detector run), so it never passes for MTCNN's answer."""
    features = FeatureSet(NAMESPACE)
    for short, (dim, indexed, version) in SHOT_FEATURES.items():
        if short == "faces" and not faces:
            version = "none-1"
        features.feature(entity=SHOT, value=Vector(dim), vector=indexed,
                         name=f"shot_{short}", version=version,
                         description=f"match cutting: a shot's {short} descriptor"
                         )(_computed_by_matchcut)
    features.feature(entity=PAIR, value=Vector(len(PAIR_FEATURES)), name="pair_features",
                     version="pair-3", description="match cutting: heuristic scores of a "
                     f"shot pair ({', '.join(PAIR_FEATURES)})")(_computed_by_matchcut)
    return features


def pair_key(shot_a: str, shot_b: str) -> str:
    return "|".join(sorted((shot_a, shot_b)))


class ShotFeatures:
    """Reads and memoizes the match-cut features through one ``FeatureStore``; counts what
    it computes (``computed[feature]`` is the number of values written)."""

    def __init__(self, store: FeatureStore, *, faces: bool = False) -> None:
        self.store = store
        self.faces = faces
        self.computed: dict[str, int] = {}
        self._detector: FaceDetector | None = None

    def _describers(self) -> dict[str, Callable[[Frames], npt.NDArray[np.float32]]]:
        framing = FramingEmbedder()
        return {"framing": lambda frames: embed_shot(framing, frames),
                "mask": subject_mask, "faces": self._face_grid, "motion": motion_histogram,
                "ends": cut_ends}

    def _face_grid(self, frames: Frames) -> npt.NDArray[np.float32]:
        if not self.faces:
            return np.zeros(MASK_DIM, np.float32)
        if self._detector is None:
            self._detector = FaceDetector()
        return self._detector.grid(frames)

    def missing(self, keys: Sequence[str]) -> dict[str, list[str]]:
        """Per short feature name, the keys the store has no value for."""
        return {short: [k for k in keys if k not in have] for short in SHOT_FEATURES
                for have in [self.store.get(feature_name(short), keys)]}

    def ensure(self, frames_of: Mapping[str, Callable[[], Frames]], run_id: str | None = None
               ) -> int:
        """Compute and store the features the store lacks for these shots (key -> a
        function giving the shot's frames); returns how many values were computed."""
        missing = self.missing(list(frames_of))
        describers = self._describers()
        total = 0
        for short, keys in missing.items():
            if not keys:
                continue
            values = {key: describers[short](frames_of[key]()) for key in keys}
            self.store.materialize(feature_name(short), values, run_id=run_id)
            self.computed[short] = self.computed.get(short, 0) + len(values)
            total += len(values)
        return total

    def load(self, shots: Sequence[ShotRecord]) -> list[ShotRecord]:
        """The shots with their stored features attached (every feature must be stored)."""
        keys = [s.key for s in shots]
        stored = {short: self.store.get(feature_name(short), keys) for short in SHOT_FEATURES}
        missing = [k for k in keys if any(k not in v for v in stored.values())]
        if missing:
            raise InvalidInput(f"{len(missing)} shots have no match-cut features yet "
                               f"(e.g. {missing[0]})", "add their titles first")
        return [ShotRecord(s.key, s.title, s.index, s.start_ns, s.end_ns,
                           {short: np.asarray(stored[short][s.key], np.float32)
                            for short in SHOT_FEATURES}) for s in shots]

    def pairs(self, pairs: Sequence[tuple[ShotRecord, ShotRecord]], run_id: str | None = None
              ) -> dict[str, npt.NDArray[np.float32]]:
        """Every pair's feature vector (key ``pair_key``), computing only the missing."""
        by_key = {pair_key(a.key, b.key): (a, b) for a, b in pairs}
        have = self.store.get(PAIR_FEATURE, list(by_key))
        new = {key: pair_features(*by_key[key]) for key in by_key if key not in have}
        if new:
            self.store.materialize(PAIR_FEATURE, new, run_id=run_id)
            self.computed["pairs"] = self.computed.get("pairs", 0) + len(new)
        have.update(new)
        return {k: np.asarray(v, np.float32) for k, v in have.items()}
