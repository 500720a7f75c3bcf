"""Scorers: one small interface, ``score(shot_a, shot_b) -> float``, one ranking per kind.

A scorer has a ``name`` and a ``kind`` (``frame`` or ``motion``): the finder ranks the
candidates of a kind with that kind's scorer, so a new kind of match (colour, shape, audio)
is one new scorer. Higher is a better match. The heuristic scorers read one per-shot
feature each (``ShotRecord.features``); ``PAIR_FEATURES`` lists them all, and their values
for a pair are what the learned scorer (``reelgraph.matchcut.learning``) ranks from.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from reelgraph.matchcut.descriptors import (
    CAMERA,
    END_MASK,
    END_MOTION,
    GRID,
    START_MASK,
    START_MOTION,
    SUBJECT,
    cosine,
    soft_iou,
)

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


Compare = Callable[[npt.ArrayLike, npt.ArrayLike], float]


@dataclass(frozen=True)
class FeatureScorer:
    """One per-shot vector compared by one function: cosine for embeddings and histograms
    (the framing embedding, the motion histogram), soft IoU for grids (subject mask, faces)."""

    name: str
    kind: str
    feature: str
    compare: Compare = cosine

    def score(self, shot_a: ShotRecord, shot_b: ShotRecord) -> float:
        return self.compare(shot_a.features[self.feature], shot_b.features[self.feature])


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
        FeatureScorer("framing", FRAME, "framing"),
        FeatureScorer("mask-iou", FRAME, "mask", soft_iou),
        FeatureScorer("face-iou", FRAME, "faces", soft_iou),
        SilhouetteScorer(),
        FeatureScorer("motion", MOTION, "motion"),
    ]


# Context the learned scorer may weigh, read from the same per-shot features: where the
# subject sits and how big it is, camera and subject motion apart, and whether both shots
# move at all (the motion cosine alone calls two still shots alike). The ``cut-`` ones compare
# what the cut joins, A's last half second with B's first, not the shots' averages.
CONTEXT = ("duration-ratio", "same-title", "mask-centre", "mask-area-ratio", "camera-motion",
           "subject-motion", "both-move", "cut-mask-iou", "cut-mask-centre", "cut-motion",
           "cut-camera-motion", "cut-both-move")
PAIR_FEATURES = (*(s.name for s in heuristic_scorers()), *CONTEXT)
DEFAULT_SCORER = {FRAME: "silhouette", MOTION: "motion"}  # heuristics rank until labels exist


def _ratio(a: float, b: float) -> float:
    low, high = sorted((a, b))
    return low / high if high > 0 else 1.0


def _centre(mask: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
    """The mask's centre of mass as fractions of the frame (the middle when empty)."""
    grid = mask.reshape(GRID, GRID).astype(np.float64)
    total = grid.sum()
    if total <= 1e-6:
        return np.array([0.5, 0.5])
    cells = (np.arange(GRID) + 0.5) / GRID
    centre = np.array([grid.sum(axis=0) @ cells, grid.sum(axis=1) @ cells], np.float64)
    return np.asarray(centre / float(total), np.float64)


def _centre_closeness(a: npt.NDArray[np.float32], b: npt.NDArray[np.float32]) -> float:
    """1 when the two masks' centres coincide, 0 at opposite corners."""
    return 1.0 - float(np.linalg.norm(_centre(a) - _centre(b))) / float(np.sqrt(2.0))


def _moving(motion: npt.NDArray[np.float32]) -> float:
    """The share of the motion histogram's mass outside the still anchor (0 for a still
    shot, towards 1 for a moving one)."""
    mass = float(np.square(motion[:-1]).sum())
    return mass / (mass + float(motion[-1]) ** 2) if mass > 0 else 0.0


def pair_features(shot_a: ShotRecord, shot_b: ShotRecord) -> npt.NDArray[np.float32]:
    """The heuristic scores of a pair plus its context, in ``PAIR_FEATURES`` order."""
    scores = [s.score(shot_a, shot_b) for s in heuristic_scorers()]
    a, b = shot_a.features, shot_b.features
    end_mask, start_mask = a["ends"][END_MASK], b["ends"][START_MASK]
    end_motion, start_motion = a["ends"][END_MOTION], b["ends"][START_MOTION]
    context = [
        _ratio(shot_a.duration_s, shot_b.duration_s), float(shot_a.title == shot_b.title),
        _centre_closeness(a["mask"], b["mask"]),
        _ratio(float(a["mask"].sum()), float(b["mask"].sum())),
        cosine(a["motion"][CAMERA], b["motion"][CAMERA]),
        cosine(a["motion"][SUBJECT], b["motion"][SUBJECT]),
        min(_moving(a["motion"]), _moving(b["motion"])),
        soft_iou(end_mask, start_mask), _centre_closeness(end_mask, start_mask),
        cosine(end_motion, start_motion),
        cosine(end_motion[CAMERA], start_motion[CAMERA]),
        min(_moving(end_motion), _moving(start_motion)),
    ]
    return np.array([*scores, *context], dtype=np.float32)
