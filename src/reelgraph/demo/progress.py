"""How the main job reports its stages while it works.

The job calls a ``Stages`` (begin a named stage, update done of total, end it); the CLI
renders it as one named bar per stage on a terminal and as plain flushed lines otherwise.
``Quiet`` reports nothing (the Python API's default).
"""

from __future__ import annotations

from typing import Protocol

from reelgraph.flows import Flow, TaskRecord

FINISHED = ("succeeded", "reused", "failed")


class Stages(Protocol):
    """Progress of the demo's stages, one at a time (a Rich display, or nothing)."""

    def begin(self, name: str, total: int | None = None) -> None:
        """Start the next stage (``total``: units of work, None when unknown)."""

    def update(self, done: int, total: int | None = None) -> None:
        """``done`` units of the current stage are finished (``total`` may grow)."""

    def end(self) -> None:
        """The current stage is finished."""


class Quiet:
    def begin(self, name: str, total: int | None = None) -> None:
        pass

    def update(self, done: int, total: int | None = None) -> None:
        pass

    def end(self) -> None:
        pass


class FlowTasks:
    """A flow run's task records as stage progress: finished tasks of all tasks known (a
    foreach step counts as one task until it expands; without the flow, the total grows as
    tasks start)."""

    def __init__(self, flow: Flow | None, stages: Stages) -> None:
        self.steps = list(flow.steps) if flow is not None else []
        self.stages = stages
        self.status: dict[tuple[str, int | None], str] = {}

    @property
    def total(self) -> int:
        seen = {step for step, _ in self.status}
        return len(self.status) + sum(step not in seen for step in self.steps)

    def __call__(self, task: TaskRecord) -> None:
        self.status[(task.step, task.index)] = task.status
        done = sum(status in FINISHED for status in self.status.values())
        self.stages.update(done, self.total)
