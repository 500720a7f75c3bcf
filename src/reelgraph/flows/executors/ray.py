"""Each task a Ray task that honours the step's cpus, gpus and memory.

A local Ray instance is started when no address is given; otherwise the cluster at the
address is used (its workers need the same artifact store URL, e.g. s3://...).
"""

from __future__ import annotations

import sys
from concurrent.futures import Future
from typing import Any

from reelgraph.core.errors import MissingDependency
from reelgraph.flows.definition import Resources
from reelgraph.flows.loader import FLOW_MODULE_PREFIX
from reelgraph.flows.task import TaskOutcome, TaskSpec, execute


class RayExecutor:
    name = "ray"

    def __init__(self, address: str = "") -> None:
        try:
            import ray
        except ModuleNotFoundError:
            raise MissingDependency("ray", "the ray executor") from None
        self._ray = ray
        self._started_here = not ray.is_initialized()
        if self._started_here:
            ray.init(address=address or None, include_dashboard=False, log_to_driver=False,
                     ignore_reinit_error=True)
        self._remote = ray.remote(execute)

    def submit(self, spec: TaskSpec, resources: Resources) -> Future[TaskOutcome]:
        options: dict[str, Any] = {"num_cpus": resources.cpus, "num_gpus": resources.gpus,
                                   "max_retries": 0}  # retries are the scheduler's job
        if resources.memory_mb:
            options["memory"] = resources.memory_mb * 1024 * 1024
        # Flows loaded from a file have no importable module on Ray's workers: send by value.
        module = sys.modules.get(spec.fn.__module__)
        if module is not None and spec.fn.__module__.startswith(FLOW_MODULE_PREFIX):
            self._ray.cloudpickle.register_pickle_by_value(module)
        future: Future[TaskOutcome] = self._remote.options(**options).remote(spec).future()
        return future

    def close(self) -> None:
        if self._started_here:
            self._ray.shutdown()
