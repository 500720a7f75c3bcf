"""Features defined in Python: a ``FeatureSet`` holds ``FeatureDef``s made by a decorator.

    features = FeatureSet("movielens")

    @features.feature(entity=EntityType("title", int), value=Scalar("string"))
    def title_text(keys): ...                      # {key: value} for a batch of keys

    @features.feature(entity=EntityType("title", int), value=Vector(384),
                      depends_on=["title_text"], params={"model": "minilm"}, vector=True)
    def title_embedding(keys, title_text, model): ...   # title_text: {key: value}

A function gets the batch's entity keys (strings), one ``{key: value}`` dict per dependency
(named by the dependency) and its parameters; it returns ``{key: value}``. Dependencies are
features of the same set and entity type defined above it, so the mesh is a DAG by
construction. The version is a hash of the function's code, its parameters, its value type
and its dependencies' versions (a changed upstream feature is a new version downstream);
``version=`` overrides it.
"""

from __future__ import annotations

import hashlib
import inspect
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from reelgraph.core import InvalidInput, NotFound
from reelgraph.features.ports import FeatureRef
from reelgraph.features.values import EntityType, ValueType, Vector
from reelgraph.graph import NodeKey

_KEYS_ARG = "keys"
F = TypeVar("F", bound=Callable[..., Any])


class FeatureDefinitionError(InvalidInput):
    """A feature that cannot be defined: a bad name, a missing dependency, a bad option."""


class UnknownFeature(NotFound):
    """No feature of that name (or version) is registered."""
    pass


@dataclass(frozen=True)
class FeatureDef:
    """One feature as declared: its entity, value type, version and compute function."""
    namespace: str
    name: str
    entity: EntityType
    value: ValueType
    fn: Callable[..., dict[Any, Any]]
    depends_on: tuple[str, ...]
    params: Mapping[str, Any]
    online: bool
    vector: bool
    reads: tuple[str, ...]  # graph URIs the function reads besides its dependencies
    version: str
    description: str = ""

    @property
    def ref(self) -> FeatureRef:
        return FeatureRef(self.namespace, self.name, self.version, self.entity.name,
                          self.value.describe())

    @property
    def uri(self) -> str:
        return self.ref.uri

    @property
    def unversioned(self) -> NodeKey:
        return NodeKey(self.ref.key.kind, self.namespace, self.name)

    @property
    def replicate_to(self) -> set[str]:
        return {name for name, on in (("online", self.online), ("vector", self.vector)) if on}


def _code(fn: Callable[..., Any]) -> str:
    try:
        return inspect.getsource(fn)
    except (OSError, TypeError):  # defined in a REPL: the bytecode is what we have
        return fn.__code__.co_code.hex()


def version_of(fn: Callable[..., Any], params: Mapping[str, Any], value: ValueType,
               entity: EntityType, upstream: Iterable[str]) -> str:
    material = json.dumps({"code": _code(fn), "params": dict(params), "value": value.describe(),
                           "entity": entity.name, "upstream": sorted(upstream)},
                          sort_keys=True, default=repr)
    return hashlib.sha256(material.encode()).hexdigest()[:12]


@dataclass
class FeatureSet:
    """A namespace's feature declarations (``@features.feature``), registered with a store."""
    namespace: str = "default"
    features: dict[str, FeatureDef] = field(default_factory=dict)

    def __post_init__(self) -> None:
        try:
            NodeKey("feature", self.namespace, "x")
        except InvalidInput as exc:
            raise FeatureDefinitionError(f"feature set namespace: {exc.problem}",
                                         exc.fix) from None

    def feature(self, *, entity: EntityType, value: ValueType, depends_on: Iterable[str] = (),
                params: Mapping[str, Any] | None = None, online: bool = False,
                vector: bool = False, version: str | None = None, reads: Iterable[str] = (),
                name: str | None = None, description: str = "") -> Callable[[F], F]:
        """Declare a feature (a decorator); returns the function unchanged."""

        def declare(function: F) -> F:
            self._add(function, name or function.__name__, entity, value, tuple(depends_on),
                      dict(params or {}), online, vector, version, tuple(reads), description)
            return function

        return declare

    def _add(self, fn: Callable[..., Any], name: str, entity: EntityType, value: ValueType,
             depends_on: tuple[str, ...], params: dict[str, Any], online: bool, vector: bool,
             version: str | None, reads: tuple[str, ...], description: str) -> None:
        where = f"feature {name!r} of set {self.namespace!r}"
        if name in self.features:
            raise FeatureDefinitionError(f"{where} is defined twice",
                                         "give each feature its own name")
        if not isinstance(entity, EntityType):
            raise FeatureDefinitionError(f"{where}: entity {entity!r} is not an EntityType",
                                         "pass entity=EntityType('title', int)")
        if vector and not isinstance(value, Vector):
            raise FeatureDefinitionError(f"{where} asks for a vector index but its value is "
                                         f"{value.describe()}", "use value=Vector(dim)")
        for dep in depends_on:
            if dep not in self.features:
                raise FeatureDefinitionError(
                    f"{where} depends on {dep!r}, which is not a feature defined above it",
                    f"define {dep!r} in the same FeatureSet before {name!r}")
            if self.features[dep].entity != entity:
                raise FeatureDefinitionError(
                    f"{where} (entity {entity.name!r}) depends on {dep!r} of entity "
                    f"{self.features[dep].entity.name!r}",
                    "depend only on features of the same entity type")
        args = inspect.signature(fn).parameters
        takes_all = any(a.kind == a.VAR_KEYWORD for a in args.values())
        wanted = {_KEYS_ARG, *depends_on, *params}
        missing = [a for a in wanted if a not in args and not takes_all]
        unknown = [a for a, p in args.items() if a not in wanted
                   and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL) and p.default is p.empty]
        if missing or unknown:
            raise FeatureDefinitionError(
                f"{where}: the function's arguments do not match (missing {missing}, "
                f"unknown {unknown})",
                "take 'keys', one argument per dependency and one per parameter")
        for uri in reads:
            NodeKey.parse(uri)
        upstream = [self.features[d].version for d in depends_on]
        try:
            definition = FeatureDef(
                self.namespace, name, entity, value, fn, depends_on, params, online, vector,
                reads, version or version_of(fn, params, value, entity, upstream), description)
            definition.ref.key  # noqa: B018 - validates name and version as a node key
        except InvalidInput as exc:
            raise FeatureDefinitionError(f"{where}: {exc.problem}", exc.fix) from None
        self.features[name] = definition

    def get(self, name: str) -> FeatureDef:
        try:
            return self.features[name]
        except KeyError:
            raise UnknownFeature(f"no feature {name!r} in feature set {self.namespace!r}",
                                 f"define it, or use one of {sorted(self.features)}") from None

    def upstream(self, name: str) -> list[FeatureDef]:
        """The feature and everything it depends on, dependencies first (topological)."""
        order: list[FeatureDef] = []

        def visit(current: str) -> None:
            definition = self.get(current)
            for dep in definition.depends_on:
                visit(dep)
            if definition not in order:
                order.append(definition)

        visit(name)
        return order
