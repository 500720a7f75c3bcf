"""Tasks in worker processes on this machine; independent branches run in parallel.

Workers are forked once per run, after the run's step functions are put in ``_FUNCTIONS``,
so a task ships only its inputs' references: steps may be closures or lambdas, nothing is
pickled but plain values, and a task costs a round trip, not a new interpreter (Metaflow's
local runtime starts a process per task).
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import replace
from typing import Any

from reelgraph.core import die_with_parent
from reelgraph.flows.definition import Resources, Step
from reelgraph.flows.task import TaskOutcome, TaskSpec, execute

_FUNCTIONS: dict[str, Callable[..., Any]] = {}  # inherited by the forked workers


def _key(fn: Callable[..., Any]) -> str:
    return f"{fn.__module__}.{fn.__qualname__}@{id(fn)}"


def _after_fork() -> None:
    die_with_parent()  # a worker whose run's process was killed must not linger
    # A forked child cannot use the OpenMP thread pool its parent started: its next parallel
    # region hangs (reproduced with torch). So a worker of a parent that loaded torch runs
    # torch on one thread; parallelism here comes from the worker processes.
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(1)


def _run(key: str, spec: TaskSpec) -> TaskOutcome:
    return execute(replace(spec, fn=_FUNCTIONS[key]))


class LocalExecutor:
    name = "local"

    def __init__(self, functions: Iterable[Callable[..., Any]], workers: int | None = None
                 ) -> None:
        self.workers = workers or max(os.cpu_count() or 1, 2)
        for fn in functions:
            _FUNCTIONS[_key(fn)] = fn
        self._pool = self._fork()

    def _fork(self) -> ProcessPoolExecutor:
        # fork (not spawn): the children start with _FUNCTIONS and every loaded module.
        context = multiprocessing.get_context("fork")
        return ProcessPoolExecutor(self.workers, mp_context=context, initializer=_after_fork)

    def admit(self, steps: Iterable[Step]) -> None:
        """Every step fits: locally, resources only bound parallelism."""

    def submit(self, spec: TaskSpec, resources: Resources) -> Future[TaskOutcome]:
        # Resources are advisory locally: the pool size bounds parallelism.
        assert spec.fn is not None
        key, shipped = _key(spec.fn), replace(spec, fn=None)
        try:
            return self._pool.submit(_run, key, shipped)
        except BrokenProcessPool:
            # A worker was killed (out of memory, kill -9): its tasks have failed and the
            # pool takes no more, so retries and later steps get freshly forked workers.
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = self._fork()
            return self._pool.submit(_run, key, shipped)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
