"""Serving the unified recommender: one canvas-agnostic ``recommend``, hosted per canvas.

``RecommendationService`` answers every canvas from the registry's production version:
online (the model in process, its item side in a FAISS inner-product index), nearline
(answers precomputed into the online store with a timestamp, served while fresh) or
offline batch (``score_to_parquet``), as ``ServingConfig`` says. A promoted version is
swapped in without dropping requests, and the graph records which version each
environment serves. No HTTP here: ``reelgraph.api`` exposes it.
"""

from reelgraph.serving.batch import BatchReport, score_to_parquet
from reelgraph.serving.config import BATCH, ENVIRONMENTS, NEARLINE, ONLINE, ServingConfig
from reelgraph.serving.deployed import Deployed
from reelgraph.serving.deployments import deployment_key
from reelgraph.serving.hooks import (
    CANARY,
    FALLBACK,
    NEARLINE_ONLY,
    SWITCHES,
    AnswerRules,
    CanvasSwitches,
    Impression,
    ImpressionSink,
    TrafficSplit,
)
from reelgraph.serving.nearline import NearlineStore, Removed, user_of
from reelgraph.serving.service import RecommendationService, Served, Swap

__all__ = [
    "BATCH",
    "CANARY",
    "ENVIRONMENTS",
    "FALLBACK",
    "NEARLINE",
    "NEARLINE_ONLY",
    "ONLINE",
    "SWITCHES",
    "AnswerRules",
    "BatchReport",
    "CanvasSwitches",
    "Deployed",
    "Impression",
    "ImpressionSink",
    "NearlineStore",
    "RecommendationService",
    "Removed",
    "Served",
    "ServingConfig",
    "Swap",
    "TrafficSplit",
    "deployment_key",
    "score_to_parquet",
    "user_of",
]
