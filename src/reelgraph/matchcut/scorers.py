"""Scorers: one small interface, ``score(shot_a, shot_b) -> float``, one ranking per kind.

A scorer has a ``name`` and a ``kind`` (``frame`` or ``motion``): the finder ranks the
candidates of a kind with that kind's scorer, so a new kind of match (colour, shape, audio)
is one new scorer. Higher is a better match. The heuristic scorers read one per-shot
feature each (``ShotRecord.features``); ``PAIR_FEATURES`` lists them all, and their values
for a pair are what the learned scorer (``reelgraph.matchcut.learning``) ranks from.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from reelgraph.matchcut.descriptors import cosine, soft_iou

FRAME, MOTION = "frame", "motion"
KINDS = (FRAME, MOTION)


@dataclass(frozen=True)
class ShotRecord:
    """One shot of one title with its per-shot features (name -> vector)."""

    key: str  # "<asset sha256>:<shot index>", the feature store's shot entity key
    title: str  # the asset's sha256
    index: int
    start_ns: int
    end_ns: int
    features: dict[str, npt.NDArray[np.float32]] = field(default_factory=dict, compare=False)

    @property
    def duration_s(self) -> float:
        return (self.end_ns - self.start_ns) / 1e9


@runtime_checkable
class Scorer(Protocol):
    """How alike two shots are on one aspect (framing, motion, subject, faces)."""

    @property
    def name(self) -> str:
        """Unique among the scorers of a run."""
        ...

    @property
    def kind(self) -> str:
        """The aspect it compares, e.g. ``framing``."""
        ...

    def score(self, shot_a: ShotRecord, shot_b: ShotRecord) -> float:
        """How alike the two shots are: higher is more alike."""
        ...


@dataclass(frozen=True)
class CosineScorer:
    """Cosine of one per-shot vector (the framing embedding, the motion histogram)."""

    name: str
    kind: str
    feature: str

    def score(self, shot_a: ShotRecord, shot_b: ShotRecord) -> float:
        return cosine(shot_a.features[self.feature], shot_b.features[self.feature])


@dataclass(frozen=True)
class IoUScorer:
    """Soft IoU of one per-shot grid (the subject mask, the face boxes)."""

    name: str
    kind: str
    feature: str

    def score(self, shot_a: ShotRecord, shot_b: ShotRecord) -> float:
        return soft_iou(shot_a.features[self.feature], shot_b.features[self.feature])


@dataclass(frozen=True)
class SilhouetteScorer:
    """The paper's kind of frame heuristic: face-box IoU where both shots show faces,
    otherwise the subject masks' IoU."""

    name: str = "silhouette"
    kind: str = FRAME

    def score(self, shot_a: ShotRecord, shot_b: ShotRecord) -> float:
        faces_a, faces_b = shot_a.features["faces"], shot_b.features["faces"]
        if faces_a.sum() > 0 and faces_b.sum() > 0:
            return soft_iou(faces_a, faces_b)
        return soft_iou(shot_a.features["mask"], shot_b.features["mask"])


@dataclass(frozen=True)
class RandomScorer:
    """The chance baseline: a fixed pseudo-random score per pair (seeded, symmetric)."""

    kind: str
    seed: int = 0
    name: str = "random"

    def score(self, shot_a: ShotRecord, shot_b: ShotRecord) -> float:
        low, high = sorted((shot_a.key, shot_b.key))
        digest = hashlib.sha256(f"{self.seed}|{low}|{high}".encode()).digest()
        return int.from_bytes(digest[:8], "big") / 2.0**64


def heuristic_scorers() -> list[Scorer]:
    """Every weight-free scorer; their values for a pair are the learned scorer's input."""
    return [
        CosineScorer("framing", FRAME, "framing"),
        IoUScorer("mask-iou", FRAME, "mask"),
        IoUScorer("face-iou", FRAME, "faces"),
        SilhouetteScorer(),
        CosineScorer("motion", MOTION, "motion"),
    ]


PAIR_FEATURES = (*(s.name for s in heuristic_scorers()), "duration-ratio", "same-title")
DEFAULT_SCORER = {FRAME: "silhouette", MOTION: "motion"}  # heuristics rank until labels exist


def pair_features(shot_a: ShotRecord, shot_b: ShotRecord) -> npt.NDArray[np.float32]:
    """The heuristic scores of a pair plus two context values, in ``PAIR_FEATURES`` order."""
    scores = [s.score(shot_a, shot_b) for s in heuristic_scorers()]
    short, long = sorted((shot_a.duration_s, shot_b.duration_s))
    ratio = short / long if long > 0 else 1.0
    return np.array([*scores, ratio, float(shot_a.title == shot_b.title)], dtype=np.float32)
