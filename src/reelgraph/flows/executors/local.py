"""Tasks in worker processes on this machine; independent branches run in parallel.

Workers are forked once per run and reused, so a task costs a pickle round trip, not a
new interpreter (Metaflow's local runtime starts a process per task).
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import Future, ProcessPoolExecutor

from reelgraph.flows.definition import Resources
from reelgraph.flows.task import TaskOutcome, TaskSpec, execute


class LocalExecutor:
    name = "local"

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or max(os.cpu_count() or 1, 2)
        # fork: the flow's module (loaded from a file path) is already in the children.
        context = multiprocessing.get_context("fork")
        self._pool = ProcessPoolExecutor(self.workers, mp_context=context)

    def submit(self, spec: TaskSpec, resources: Resources) -> Future[TaskOutcome]:
        # Resources are advisory locally: the pool size bounds parallelism.
        return self._pool.submit(execute, spec)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
