"""Where tasks run: ``local`` (worker processes) or ``ray`` (Ray tasks)."""

from __future__ import annotations

from concurrent.futures import Future
from typing import Protocol

from reelgraph.core.errors import InvalidInput
from reelgraph.flows.definition import Resources
from reelgraph.flows.task import TaskOutcome, TaskSpec

EXECUTORS = ("local", "ray")


class Executor(Protocol):
    name: str

    def submit(self, spec: TaskSpec, resources: Resources) -> Future[TaskOutcome]: ...

    def close(self) -> None: ...


def open_executor(name: str, ray_address: str = "", workers: int | None = None) -> Executor:
    if name == "local":
        from reelgraph.flows.executors.local import LocalExecutor

        return LocalExecutor(workers)
    if name == "ray":
        from reelgraph.flows.executors.ray import RayExecutor

        return RayExecutor(ray_address)
    raise InvalidInput(f"unknown executor {name!r}", f"use one of {EXECUTORS}")
