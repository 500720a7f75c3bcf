"""One task (a step, or one element of a foreach step) as it runs inside a worker.

Workers share nothing with the scheduler but the artifact store: a task gets references to
its inputs, loads them, calls the step, stores the value and returns a ``TaskOutcome``.
Nothing here touches the metadata database, so the same code runs in a local process or
a Ray worker on another machine.
"""

from __future__ import annotations

import contextlib
import io
import random
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from reelgraph.artifacts import ArtifactError, ArtifactRef, ArtifactStore
from reelgraph.core import InvalidInput, Settings, fault_point
from reelgraph.flows.workspace import Workspace
from reelgraph.graph import NodeKey


@dataclass
class StepContext:
    """What a step may ask of the platform while it runs (the ``ctx`` argument)."""

    run_id: str
    flow: str
    step: str
    index: int | None
    params: dict[str, Any]
    seed: int
    attempt: int
    reads: list[str] = field(default_factory=list)
    # The platform's settings, so a step can open its workspace (graph, features, media).
    settings: Settings | None = None
    _log: io.StringIO = field(default_factory=io.StringIO)
    _workspace: Workspace | None = None

    @property
    def workspace(self) -> Workspace:
        """The platform's workspace, opened at first use in the process running the step
        and closed when the step ends."""
        if self._workspace is None:
            if self.settings is None:
                raise InvalidInput(f"step {self.step!r} runs without the platform's settings",
                                   "run the flow with a Runner over a Workspace")
            self._workspace = Workspace.open(self.settings)
        return self._workspace

    def close(self) -> None:
        if self._workspace is not None:
            self._workspace.close()
            self._workspace = None

    def log(self, message: str) -> None:
        self._log.write(f"{message}\n")

    def logged(self) -> str:
        """What the step has logged so far (``log``), one message a line."""
        return self._log.getvalue()

    def read(self, uri: str) -> str:
        """Record that this step reads a graph node (a dataset, feature, model...)."""
        NodeKey.parse(uri)
        if uri not in self.reads:
            self.reads.append(uri)
        return uri


@dataclass(frozen=True)
class TaskSpec:
    run_id: str
    flow: str
    step: str
    index: int | None
    fn: Callable[..., Any] | None  # None only in transit to a worker that knows it
    inputs: dict[str, ArtifactRef | list[ArtifactRef]]
    foreach_source: ArtifactRef | None
    params: dict[str, Any]  # only those the step takes, plus all for ctx
    step_params: tuple[str, ...]
    wants_context: bool
    artifact_url: str
    seed: int
    attempt: int
    settings: Settings | None = None

    @property
    def label(self) -> str:
        suffix = f" (element {self.index})" if self.index is not None else ""
        return f"step {self.step!r}{suffix}"


@dataclass(frozen=True)
class TaskOutcome:
    ok: bool
    ref: ArtifactRef | None
    log: str
    error: str | None
    traceback: str | None
    reads: tuple[str, ...]
    started_us: int
    ended_us: int
    retryable: bool = True


def _seed_everything(seed: int) -> None:
    random.seed(seed)
    if "numpy" in sys.modules:
        sys.modules["numpy"].random.seed(seed % 2**32)
    if "torch" in sys.modules:
        sys.modules["torch"].manual_seed(seed)


def _load(store: ArtifactStore, ref: ArtifactRef | list[ArtifactRef]) -> Any:
    return [store.get(r) for r in ref] if isinstance(ref, list) else store.get(ref)


def execute(spec: TaskSpec) -> TaskOutcome:
    started = time.time_ns() // 1000
    store = ArtifactStore(spec.artifact_url)
    context = StepContext(spec.run_id, spec.flow, spec.step, spec.index, dict(spec.params),
                          spec.seed, spec.attempt, settings=spec.settings)
    output = io.StringIO()
    try:
        kwargs = {name: _load(store, ref) for name, ref in spec.inputs.items()}
        kwargs.update({name: spec.params[name] for name in spec.step_params})
        if spec.wants_context:
            kwargs["ctx"] = context
        if spec.foreach_source is not None:
            items = store.get(spec.foreach_source)
            assert spec.index is not None
            kwargs["item"] = items[spec.index]
        _seed_everything(spec.seed)
        assert spec.fn is not None
        with contextlib.redirect_stdout(output), contextlib.redirect_stderr(output):
            value = spec.fn(**kwargs)
    except Exception as exc:
        return TaskOutcome(False, None, output.getvalue() + context.logged(),
                           f"{type(exc).__name__}: {exc}", traceback.format_exc(),
                           tuple(context.reads), started, time.time_ns() // 1000)
    finally:
        context.close()
    try:
        ref = store.put(value, label=f"the value of {spec.label}")
        fault_point("flows.task.stored")
    except ArtifactError as exc:
        return TaskOutcome(False, None, output.getvalue() + context.logged(), str(exc),
                           None, tuple(context.reads), started, time.time_ns() // 1000,
                           retryable=False)
    return TaskOutcome(True, ref, output.getvalue() + context.logged(), None, None,
                       tuple(context.reads), started, time.time_ns() // 1000)
