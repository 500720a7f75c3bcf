"""Each canvas's training and test examples, generated with no future leakage.

``build_tasks`` runs the four generators (one module per canvas) over one dataset and time
split: every training example's inputs and target lie before the cut-off; every test
request is at or after it, uses only what happened before its own time, and is judged by
what happened after.
"""

from reelgraph.recsys.tasks.build import CanvasTask, Tasks, build_tasks
from reelgraph.recsys.tasks.inputs import TaskConfig, TaskInputs

__all__ = ["CanvasTask", "TaskConfig", "TaskInputs", "Tasks", "build_tasks"]
