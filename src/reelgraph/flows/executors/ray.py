"""Each task a Ray task that honours the step's cpus, gpus and memory.

A private local Ray instance is started when no address is given (``address="local"``, so a
cluster someone started with ``ray start`` on the same machine is never picked up by
accident); otherwise the cluster at ``Settings.ray_address`` is used (its workers need the
same artifact store URL, e.g. s3://..., and the packages the steps import).

Step code that Ray's workers cannot import by name (a flow file loaded from a path, a test
module, a script's own module) is sent by value; installed packages go by reference.

Ray queues a task whose resources no node can ever provide and waits for them forever, so
``admit`` compares every step with ``ray.cluster_resources()`` before anything runs and
refuses the run with the step's name instead.
"""

from __future__ import annotations

import sys
import sysconfig
from collections.abc import Iterable
from concurrent.futures import Future
from pathlib import Path
from types import ModuleType
from typing import Any

from reelgraph.core import Conflict, MissingDependency, ReelgraphError
from reelgraph.flows.definition import Resources, Step
from reelgraph.flows.task import TaskOutcome, TaskSpec, execute

_MIB = 1024 * 1024
# Where installed code lives; modules from anywhere else travel with the task.
_INSTALLED = tuple(
    Path(path).resolve()
    for path in {sysconfig.get_paths()[key] for key in ("stdlib", "platstdlib", "purelib",
                                                          "platlib")}
)
_OWN_PACKAGE = __name__.split(".")[0]


class InsufficientResources(Conflict):
    """A step asks for more than the whole Ray cluster has; Ray would wait forever."""


class RayUnavailable(ReelgraphError):
    """The Ray cluster at the configured address could not be joined."""

    status_code = 503


def _importable_on_workers(module: ModuleType) -> bool:
    if module.__name__ == "__main__":  # cloudpickle already sends __main__ by value
        return True
    if module.__name__.split(".")[0] == _OWN_PACKAGE:
        return True
    file = getattr(module, "__file__", None)
    if file is None:  # built into the interpreter
        return True
    where = Path(file).resolve()
    return any(where.is_relative_to(root) for root in _INSTALLED)


class RayExecutor:
    name = "ray"

    def __init__(self, address: str = "") -> None:
        try:
            import ray
        except ModuleNotFoundError:
            raise MissingDependency("ray", "the ray executor") from None
        self._ray: Any = ray  # untyped: calls go through Any
        self.address = address or "local"
        self._started_here = not self._ray.is_initialized()
        if self._started_here:
            try:
                self._ray.init(address=self.address, include_dashboard=False, log_to_driver=False)
            except ConnectionError as exc:
                raise RayUnavailable(
                    f"cannot join the Ray cluster at {self.address!r} ({exc})",
                    "start it (ray start --head) or correct ray_address "
                    "(REELGRAPH_RAY_ADDRESS); leave it empty for a local Ray instance",
                ) from None
        self._capacity = {k: float(v) for k, v in self._ray.cluster_resources().items()}
        self._remote = self._ray.remote(execute)
        self._admitted: set[Resources] = set()

    def admit(self, steps: Iterable[Step]) -> None:
        """Refuse, before anything runs, a step that no node of the cluster could place."""
        for step in steps:
            self._check(step.name, step.resources)

    def _check(self, step: str, resources: Resources) -> None:
        if resources in self._admitted:
            return
        wanted = (
            ("CPU", resources.cpus, "CPUs", "cpus"),
            ("GPU", resources.gpus, "GPUs", "gpus"),
            ("memory", (resources.memory_mb or 0) * _MIB, "bytes of memory", "memory_mb"),
        )
        for resource, amount, unit, option in wanted:
            have = self._capacity.get(resource, 0.0)
            if amount > have:
                raise InsufficientResources(
                    f"step {step!r} asks for {amount:g} {unit} but the Ray cluster "
                    f"({self.address}) has {have:g} in all, so Ray would wait for them forever",
                    f"lower {option}= on step {step!r}, or point ray_address "
                    "(REELGRAPH_RAY_ADDRESS) at a cluster that has them",
                )
        self._admitted.add(resources)

    def submit(self, spec: TaskSpec, resources: Resources) -> Future[TaskOutcome]:
        self._check(spec.step, resources)
        options: dict[str, Any] = {"num_cpus": resources.cpus, "num_gpus": resources.gpus,
                                   "max_retries": 0}  # retries are the scheduler's job
        if resources.memory_mb:
            options["memory"] = resources.memory_mb * _MIB
        module = sys.modules.get(spec.fn.__module__)
        if module is not None and not _importable_on_workers(module):
            self._ray.cloudpickle.register_pickle_by_value(module)
        future: Future[TaskOutcome] = self._remote.options(**options).remote(spec).future()
        return future

    def close(self) -> None:
        if self._started_here:
            self._ray.shutdown()
