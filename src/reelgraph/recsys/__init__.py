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
from reelgraph.recsys.canvases import CANVASES, Canvas
from reelgraph.recsys.data import Dataset, TableFiles, build_dataset, load_movielens
from reelgraph.recsys.experiment import ExperimentConfig, ExperimentResult, run_experiment
from reelgraph.recsys.flow import MODEL, train_and_register
from reelgraph.recsys.interactions import Interaction, InteractionLog
from reelgraph.recsys.recommender import Recommendations, UnifiedRecommender
from reelgraph.recsys.split import TimeSplit
from reelgraph.recsys.tasks import TaskConfig, build_tasks

__all__ = [
    "CANVASES",
    "MODEL",
    "AffinityReport",
    "Canvas",
    "Dataset",
    "ExperimentConfig",
    "ExperimentResult",
    "Interaction",
    "InteractionLog",
    "Recommendations",
    "TableFiles",
    "TaskConfig",
    "TimeSplit",
    "UnifiedRecommender",
    "build_dataset",
    "build_tasks",
    "load_movielens",
    "measure_affinity",
    "run_experiment",
    "store_affinity",
    "train_and_register",
]
