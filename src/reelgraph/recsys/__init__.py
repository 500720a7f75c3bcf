"""The unified recommender: one multi-task model for every canvas of the app.

Object model: a ``Dataset`` (an interaction log and an item catalog with dense ids, from
``load_movielens`` or any ``TableFiles``) is cut by a ``TimeSplit``; ``build_tasks`` makes
each ``Canvas``'s training and test examples from it with no future leakage. One PyTorch
network (``recsys.model``) is trained on all canvases at once; ``run_experiment`` compares
it per canvas with single-task twins and classical baselines, and the training flow
(``train_and_register``) does the same on the paved road and registers the model.
``UnifiedRecommender.recommend`` answers any canvas's request. PyTorch is imported on first
use, not with this package.
"""

from reelgraph.recsys.affinity import AffinityReport, measure_affinity, store_affinity
from reelgraph.recsys.canvases import CANVAS_NAMES, CANVASES, Canvas, canvas
from reelgraph.recsys.data import Dataset, TableFiles, build_dataset, load_movielens
from reelgraph.recsys.experiment import ExperimentConfig, ExperimentResult, run_experiment
from reelgraph.recsys.experiment import prepare as prepare_experiment
from reelgraph.recsys.flow import MODEL, train_and_register
from reelgraph.recsys.flow import training as training_flow
from reelgraph.recsys.interactions import Interaction, InteractionLog
from reelgraph.recsys.precompute import ScoredBatch, Targets
from reelgraph.recsys.recommender import (
    MAX_K,
    Recommendations,
    RecommendRequest,
    UnifiedRecommender,
    serving_key,
)
from reelgraph.recsys.split import TimeSplit
from reelgraph.recsys.tasks import TaskConfig, build_tasks

__all__ = [
    "CANVASES",
    "CANVAS_NAMES",
    "MAX_K",
    "MODEL",
    "AffinityReport",
    "Canvas",
    "Dataset",
    "ExperimentConfig",
    "ExperimentResult",
    "Interaction",
    "InteractionLog",
    "RecommendRequest",
    "Recommendations",
    "ScoredBatch",
    "TableFiles",
    "Targets",
    "TaskConfig",
    "TimeSplit",
    "UnifiedRecommender",
    "build_dataset",
    "build_tasks",
    "canvas",
    "load_movielens",
    "measure_affinity",
    "prepare_experiment",
    "run_experiment",
    "serving_key",
    "store_affinity",
    "train_and_register",
    "training_flow",
]
