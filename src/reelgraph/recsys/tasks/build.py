"""``build_tasks``: every canvas's examples over one dataset and time split, as ``Tasks``."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from reelgraph.recsys.canvases import CANVAS_NAMES, Canvas, canvas
from reelgraph.recsys.data import Dataset
from reelgraph.recsys.requests import EvalExamples, TrainingExamples
from reelgraph.recsys.split import TimeSplit
from reelgraph.recsys.tasks import category, notifications, related, search
from reelgraph.recsys.tasks.inputs import TaskConfig, TaskInputs
from reelgraph.recsys.timeline import Timeline


@dataclass(frozen=True)
class CanvasTask:
    canvas: Canvas
    train: TrainingExamples
    test: EvalExamples


@dataclass(frozen=True)
class Tasks:
    inputs: TaskInputs
    by_canvas: dict[str, CanvasTask]

    @property
    def dataset(self) -> Dataset:
        return self.inputs.dataset

    @property
    def timeline(self) -> Timeline:
        return self.inputs.timeline

    @property
    def split(self) -> TimeSplit:
        return self.inputs.split

    @cached_property
    def known_users(self) -> np.ndarray:
        """bool per user: has interactions before the cut-off (a model can know them)."""
        train = self.timeline.times < self.split.cutoff
        return np.bincount(self.inputs.users[train], minlength=self.dataset.n_users) > 0

    def training(self, canvases: Iterable[str] = CANVAS_NAMES) -> TrainingExamples:
        return TrainingExamples.concat([self.by_canvas[c].train for c in canvases])

    def describe(self) -> dict[str, dict[str, int]]:
        return {name: {"train_examples": len(task.train), "test_requests": len(task.test)}
                for name, task in self.by_canvas.items()}


def build_tasks(dataset: Dataset, split: TimeSplit | None = None,
                config: TaskConfig | None = None) -> Tasks:
    split = split or TimeSplit.at_quantile(dataset.interactions)
    inputs = TaskInputs(dataset, Timeline.of(dataset.interactions, dataset.n_users), split,
                        config or TaskConfig())
    search_train = search.training(inputs)
    pairs = set(zip(search_train.target.tolist(), search_train.requests.query, strict=True))
    made = {
        "related": (related.training(inputs), related.evaluation(inputs)),
        "category": (category.training(inputs), category.evaluation(inputs)),
        "search": (search_train, search.evaluation(inputs, pairs)),
        "notifications": (notifications.training(inputs), notifications.evaluation(inputs)),
    }
    return Tasks(inputs, {name: CanvasTask(canvas(name), train, test)
                          for name, (train, test) in made.items()})

