"""Flows written as plain Python: steps are functions, their arguments say what they need.

    flow = Flow("popularity", namespace="personalization", params={"min_ratings": 5})

    @flow.step(reads=["rg://dataset/movielens/ml-latest-small/ratings.csv"])
    def ratings(ctx): ...                    # ctx: the StepContext

    @flow.step(retries=2, cpus=2)
    def counts(ratings, min_ratings): ...    # an upstream step's value and a parameter

    @flow.step(foreach="genres")
    def top(item, counts): ...               # one task per element of step genres' list

    @flow.step
    def report(top): ...                     # fan-in: the list of every top task's value

An argument names a step defined above, a flow parameter, ``ctx`` or (in a foreach step)
``item``. Because a step can only use steps defined before it, the flow is a DAG by
construction; anything else is refused when the step is defined, before anything runs.
"""

from __future__ import annotations

import hashlib
import importlib.util
import inspect
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, overload

from reelgraph.core import InvalidInput
from reelgraph.graph import NodeKey

CONTEXT_ARG = "ctx"
ITEM_ARG = "item"


class FlowDefinitionError(InvalidInput):
    """A flow that cannot run: a cycle, a missing dependency, a bad option."""


@dataclass(frozen=True)
class Resources:
    """What one step's task asks of the executor (CPUs, GPUs, memory)."""
    cpus: float = 1.0
    gpus: float = 0.0
    memory_mb: int | None = None


@dataclass(frozen=True)
class Step:
    """One step of a flow: its function, the upstream steps and parameters it takes."""
    name: str
    fn: Callable[..., Any]
    inputs: tuple[str, ...]  # upstream steps whose values are arguments
    params: tuple[str, ...]  # flow parameters that are arguments
    foreach: str | None
    resources: Resources
    retries: int
    backoff_s: float
    reads: tuple[str, ...]  # graph URIs the step reads
    code_hash: str
    wants_context: bool

    @property
    def upstream(self) -> tuple[str, ...]:
        return self.inputs if self.foreach is None or self.foreach in self.inputs else (
            *self.inputs, self.foreach)


@dataclass(frozen=True)
class Trigger:
    """When a flow starts by itself (see ``triggers.py``)."""

    kind: str  # "dataset", "media_asset" or "schedule"
    uri: str | None = None  # the dataset (or None for any dataset / media asset)
    every_s: float | None = None
    catch_up: bool = False  # a new flow also reacts to events logged before it was seen


def _code_hash(fn: Callable[..., Any], options: Iterable[Any]) -> str:
    try:
        code = inspect.getsource(fn)
    except (OSError, TypeError):  # defined in a REPL: the bytecode is what we have
        code = fn.__code__.co_code.hex()
    return hashlib.sha256((code + repr(tuple(options))).encode()).hexdigest()[:16]


def _source_hash(module: str, where: str) -> str:
    """The hash of a module's source, or of every ``.py`` file of a package."""
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        spec = None
    if spec is None or spec.origin is None:
        raise FlowDefinitionError(f"{where} depends on code {module!r}, which is not importable",
                                  "name an importable module or package, e.g. 'mypkg.model'")
    origin = Path(spec.origin)
    files = sorted(origin.parent.rglob("*.py")) if spec.submodule_search_locations else [origin]
    digest = hashlib.sha256()
    for file in files:
        digest.update(file.relative_to(origin.parent).as_posix().encode())
        digest.update(file.read_bytes())
    return digest.hexdigest()[:16]


@dataclass
class Flow:
    """A flow: named steps whose arguments are upstream values and parameters, run by a
    ``Runner``."""
    name: str
    namespace: str = "default"
    params: dict[str, Any] = field(default_factory=dict)
    description: str = ""
    owner: str = ""
    steps: dict[str, Step] = field(default_factory=dict)
    triggers: list[Trigger] = field(default_factory=list)

    def __post_init__(self) -> None:
        try:
            NodeKey("job", self.namespace, self.name)
        except InvalidInput as exc:
            raise FlowDefinitionError(f"flow name: {exc.problem}", exc.fix) from None
        for reserved in (CONTEXT_ARG, ITEM_ARG):
            if reserved in self.params:
                raise FlowDefinitionError(
                    f"flow {self.name!r} has a parameter named {reserved!r}, a reserved name",
                    "rename the parameter",
                )

    @property
    def job_key(self) -> NodeKey:
        return NodeKey("job", self.namespace, self.name)

    @property
    def code_hash(self) -> str:
        joined = "".join(s.code_hash for s in self.steps.values())
        return hashlib.sha256(joined.encode()).hexdigest()[:16]

    @overload
    def step(self, fn: Callable[..., Any]) -> Callable[..., Any]: ...

    @overload
    def step(
        self,
        fn: None = None,
        *,
        foreach: str | None = None,
        cpus: float = 1.0,
        gpus: float = 0.0,
        memory_mb: int | None = None,
        retries: int = 0,
        backoff_s: float = 1.0,
        reads: Iterable[str] = (),
        code: Iterable[str] = (),
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]: ...

    def step(
        self,
        fn: Callable[..., Any] | None = None,
        *,
        foreach: str | None = None,
        cpus: float = 1.0,
        gpus: float = 0.0,
        memory_mb: int | None = None,
        retries: int = 0,
        backoff_s: float = 1.0,
        reads: Iterable[str] = (),
        code: Iterable[str] = (),
    ) -> Any:
        """Declare a step (usable bare, ``@flow.step``, or with options). ``code`` names
        modules or packages the step's result depends on beyond its own source (e.g. the
        model's code): their source is part of its code hash, so editing them invalidates
        cached results."""

        def declare(function: Callable[..., Any]) -> Callable[..., Any]:
            self._add(function, foreach, Resources(cpus, gpus, memory_mb), retries, backoff_s,
                      tuple(reads), tuple(code))
            return function

        return declare(fn) if fn is not None else declare

    def _add(self, fn: Callable[..., Any], foreach: str | None, resources: Resources,
             retries: int, backoff_s: float, reads: tuple[str, ...],
             code: tuple[str, ...] = ()) -> None:
        name = fn.__name__
        where = f"step {name!r} of flow {self.name!r}"
        if name in self.steps:
            raise FlowDefinitionError(f"{where} is defined twice", "give each step its own name")
        if name in self.params or name in (CONTEXT_ARG, ITEM_ARG):
            raise FlowDefinitionError(f"{where} has the name of a parameter or reserved word",
                                      "rename the step")
        if retries < 0 or backoff_s < 0 or resources.cpus <= 0 or resources.gpus < 0:
            raise FlowDefinitionError(f"{where} has a negative retry, backoff or resource",
                                      "use retries >= 0, backoff_s >= 0, cpus > 0, gpus >= 0")
        for uri in reads:
            NodeKey.parse(uri)
        if foreach is not None and foreach not in self.steps:
            raise FlowDefinitionError(
                f"{where} fans out over {foreach!r}, which is not a step defined above it",
                f"define step {foreach!r} (returning a list) before {name!r}",
            )
        if foreach is not None and self.steps[foreach].foreach is not None:
            raise FlowDefinitionError(
                f"{where} fans out over {foreach!r}, itself a foreach step",
                f"add a step that joins {foreach!r} into one list and fan out over that",
            )
        inputs, params, wants_context = [], [], False
        for arg in inspect.signature(fn).parameters.values():
            if arg.kind in (arg.VAR_POSITIONAL, arg.VAR_KEYWORD):
                raise FlowDefinitionError(f"{where} takes *args or **kwargs",
                                          "name each input of the step as an argument")
            if arg.name == CONTEXT_ARG:
                wants_context = True
            elif arg.name == ITEM_ARG:
                if foreach is None:
                    raise FlowDefinitionError(
                        f"{where} takes 'item' but is not a foreach step",
                        "add foreach='STEP' to the decorator or rename the argument",
                    )
            elif arg.name == name:
                raise FlowDefinitionError(
                    f"{where} takes its own value as input, a cycle",
                    "a step can only use steps defined above it; rename the argument",
                )
            elif arg.name in self.steps:
                inputs.append(arg.name)
            elif arg.name in self.params:
                params.append(arg.name)
            else:
                raise FlowDefinitionError(
                    f"{where} takes {arg.name!r}, which is no step defined above it, no flow "
                    "parameter, and not ctx or item (a missing dependency, or a cycle if that "
                    "step comes later)",
                    f"define step {arg.name!r} before {name!r} or add it to the flow's params",
                )
        options = (foreach, resources, retries, backoff_s, reads, tuple(inputs), tuple(params),
                   *(_source_hash(module, where) for module in code))
        self.steps[name] = Step(name, fn, tuple(inputs), tuple(params), foreach, resources,
                                retries, backoff_s, reads, _code_hash(fn, options), wants_context)

    # --- triggers ------------------------------------------------------------------------

    def on_dataset(self, uri: str | None = None) -> Flow:
        """Run when a new version of the dataset (or of any dataset) lands in the graph."""
        if uri is not None:
            NodeKey.parse(uri)
        self.triggers.append(Trigger("dataset", uri=uri))
        return self

    def on_media_asset(self, catch_up: bool = False) -> Flow:
        """Run when a new media asset is registered; with ``catch_up``, also for every asset
        registered before a worker first watched this flow (each asset still runs once)."""
        self.triggers.append(Trigger("media_asset", catch_up=catch_up))
        return self

    def every(self, seconds: float) -> Flow:
        """Run on a schedule, once per period."""
        if seconds <= 0:
            raise FlowDefinitionError(f"schedule period {seconds} is not positive",
                                      "pass a period in seconds greater than zero")
        self.triggers.append(Trigger("schedule", every_s=float(seconds)))
        return self

    def validate(self) -> None:
        if not self.steps:
            raise FlowDefinitionError(f"flow {self.name!r} has no steps",
                                      "decorate at least one function with @flow.step")

    def bind(self, overrides: dict[str, Any]) -> dict[str, Any]:
        """The run's parameters: defaults overridden by ``overrides`` (unknown names refused)."""
        unknown = set(overrides) - set(self.params)
        if unknown:
            raise InvalidInput(
                f"flow {self.name!r} has no parameter(s) {sorted(unknown)}",
                f"use one of {sorted(self.params)}",
            )
        bound = dict(self.params)
        for key, value in overrides.items():
            default = self.params[key]
            bound[key] = _coerce(key, value, default)
        return bound


def _coerce(key: str, value: Any, default: Any) -> Any:
    """Command-line values arrive as strings; give them the default's type."""
    if not isinstance(value, str) or isinstance(default, str) or default is None:
        return value
    try:
        if isinstance(default, bool):
            if value.lower() not in {"true", "false", "1", "0", "yes", "no"}:
                raise ValueError(value)
            return value.lower() in {"true", "1", "yes"}
        return type(default)(value)
    except (TypeError, ValueError):
        raise InvalidInput(
            f"parameter {key!r} takes a value of type {type(default).__name__}, not {value!r}",
            f"pass e.g. --param {key}={default!r}",
        ) from None
