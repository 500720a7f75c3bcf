"""Where tasks run: ``local`` (worker processes) or ``ray`` (Ray tasks)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import Future
from typing import Any, Protocol

from reelgraph.core import InvalidInput
from reelgraph.flows.definition import Resources, Step
from reelgraph.flows.task import TaskOutcome, TaskSpec

EXECUTORS = ("local", "ray")


class Executor(Protocol):
    """Where a run's tasks execute (local processes, a Ray cluster): tasks are submitted
    one by one and each future answers with the task's outcome, never raising for a
    failing step."""

    name: str

    def admit(self, steps: Iterable[Step]) -> None:
        """Refuse, before anything runs, a step this executor could never place."""

    def submit(self, spec: TaskSpec, resources: Resources) -> Future[TaskOutcome]:
        """Start one task with the step's resources; its future holds the outcome."""
        ...

    def close(self) -> None:
        """Stop the workers; tasks still running are abandoned."""
        ...


def open_executor(name: str, functions: Iterable[Callable[..., Any]], ray_address: str = "",
                  workers: int | None = None) -> Executor:
    """An executor for one run of a flow whose step functions are ``functions``."""
    if name == "local":
        from reelgraph.flows.executors.local import LocalExecutor

        return LocalExecutor(functions, workers)
    if name == "ray":
        from reelgraph.flows.executors.ray import RayExecutor

        return RayExecutor(ray_address)
    raise InvalidInput(f"unknown executor {name!r}", f"use one of {EXECUTORS}")
