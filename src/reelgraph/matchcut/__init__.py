"""Match cutting: find frame and motion match cuts within and across titles.

Object model: a title (a media asset) becomes ``ShotRecord``s (``titles``: shots detected
once with PySceneDetect or TransNetV2, ``detectors``) with per-shot descriptors memoized in
the feature store (``features``: framing embedding, subject mask, face boxes, camera/subject
motion). ``candidates`` drops short shots, groups near-duplicates and keeps each shot's
top-K neighbours (exact matrix multiply or FAISS HNSW), adjacent shots excluded. A
``Scorer`` (``score(shot_a, shot_b)``) ranks the candidates of its kind (``frame`` or
``motion``); the learned scorer (``learning``) replaces the heuristics once labels exist.
``MatchCutter.find`` runs it all and saves the ranking in a ``PairStore``, where reviewers'
decisions are kept as annotations; ``export`` writes accepted pairs as an OpenTimelineIO
timeline and renders them (and transition previews) to MP4 with PyAV.
"""

from reelgraph.matchcut.candidates import CandidateConfig, candidates, exact_top_k, top_k
from reelgraph.matchcut.export import ClipTooShort, render, render_preview, timeline, write_timeline
from reelgraph.matchcut.finder import FindReport, MatchCutter, register_titles
from reelgraph.matchcut.flow import title_flow
from reelgraph.matchcut.learning import LabelSet, LearnedScorer, retrain
from reelgraph.matchcut.pairs import MatchPair, PairStore, UnknownPair
from reelgraph.matchcut.scorers import (
    FRAME,
    MOTION,
    Scorer,
    ShotRecord,
    heuristic_scorers,
)
from reelgraph.matchcut.titles import NoShots

__all__ = [
    "FRAME",
    "MOTION",
    "CandidateConfig",
    "ClipTooShort",
    "FindReport",
    "LabelSet",
    "LearnedScorer",
    "MatchCutter",
    "MatchPair",
    "NoShots",
    "PairStore",
    "Scorer",
    "ShotRecord",
    "UnknownPair",
    "candidates",
    "exact_top_k",
    "heuristic_scorers",
    "register_titles",
    "render",
    "render_preview",
    "retrain",
    "timeline",
    "title_flow",
    "top_k",
    "write_timeline",
]
