"""What the REST API and the CLI share: feature files, and features read back from storage.

Feature definitions are Python: a file defines one or more ``FeatureSet``s and is loaded as
``reelgraph run FILE`` loads a flow. Computing needs the definitions; reading does not:
``FeatureCatalog`` resolves ``namespace/name[@version]`` from the graph nodes the store
registered (entity, value type, replicas are node properties), so online reads, nearest
neighbours, ``verify`` and ``sync`` work from what is stored even without the file.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from reelgraph.core import Conflict, InvalidInput, NotFound, import_file
from reelgraph.features.compaction import Compaction
from reelgraph.features.definition import FeatureDef, FeatureSet, UnknownFeature
from reelgraph.features.ports import FeatureRef
from reelgraph.features.replication import Replicator, VerifyReport
from reelgraph.features.store import FeatureStore
from reelgraph.features.values import Vector, value_type_from
from reelgraph.graph import Node, NodeKey

FEATURE_FILES_ENV = "REELGRAPH_FEATURE_FILES"  # colon-separated feature files for the server
FEATURE_KINDS = ("feature", "embedding")
MAX_NEIGHBORS = 1000
_MODULE_PREFIX = "reelgraph_features_"


def load_feature_sets(path: str | Path) -> list[FeatureSet]:
    """Every ``FeatureSet`` a Python file defines at module level."""
    module = import_file(path, _MODULE_PREFIX, "feature", "a FeatureSet")
    sets = [v for v in vars(module).values() if isinstance(v, FeatureSet)]
    if not sets:
        raise InvalidInput(f"{path} defines no FeatureSet",
                           "define one at module level: features = FeatureSet('namespace')")
    return sets


def feature_files_from_env() -> list[Path]:
    """The feature files that ``REELGRAPH_FEATURE_FILES`` names (colon-separated)."""
    raw = os.environ.get(FEATURE_FILES_ENV, "")
    return [Path(part) for part in raw.split(os.pathsep) if part.strip()]


@dataclass(frozen=True)
class ResolvedFeature:
    """One feature version, as stored; ``definition`` only when its file is loaded."""

    ref: FeatureRef
    node: Node  # the version's graph node
    definition: FeatureDef | None
    versions: list[Node]  # every registered version, newest first

    @property
    def replicate_to(self) -> list[str]:
        return list(self.node.properties.get("replicate_to", []))

    @property
    def dim(self) -> int | None:
        value_type = value_type_from(self.ref.value)
        return value_type.dim if isinstance(value_type, Vector) else None

    def key(self, raw: Any) -> str:
        """An entity key checked against the entity's key type (when the definition is known)."""
        if self.definition is not None:
            return self.definition.entity.key(raw)
        if isinstance(raw, bool) or not isinstance(raw, str | int) or raw == "":
            raise InvalidInput(f"entity {self.ref.entity!r} keys are strings or integers, "
                               f"not {type(raw).__name__} {raw!r:.40}",
                               f"pass {self.ref.entity} keys as strings or ints")
        return str(raw)

    def keys(self, raw: Iterable[Any]) -> list[str]:
        return list(dict.fromkeys(self.key(k) for k in raw))


def split_name(name: str) -> tuple[str, str, str | None]:
    """``ns/name``, ``ns/name@version`` or a URI ``rg://feature/ns/name[@version]``."""
    if name.startswith("rg://"):
        key = NodeKey.parse(name)
        if key.kind not in FEATURE_KINDS:
            raise InvalidInput(f"{name!r} is a {key.kind}, not a feature or embedding",
                               "pass a feature's URI or NAMESPACE/NAME")
        return key.namespace, key.name, key.version
    body, _, version = name.partition("@")
    namespace, sep, short = body.partition("/")
    if not sep or not namespace or not short or "/" in short:
        raise InvalidInput(f"{name!r} does not name a feature",
                           "write NAMESPACE/NAME[@VERSION], e.g. movielens/genres")
    return namespace, short, version or None


class FeatureCatalog:
    """Resolves features from the graph and serves the reads and writes both interfaces offer."""

    def __init__(self, store: FeatureStore) -> None:
        self.store = store
        self.graph = store.ws.graph
        self._replicas: Replicator | None = None

    @classmethod
    def open(cls, workspace: Any, files: Sequence[str | Path] = ()) -> FeatureCatalog:
        """A catalog over the workspace's stores; the files' feature sets are registered."""
        from reelgraph.features.online import open_online_store
        from reelgraph.features.vector import FaissVectorIndex

        sets = [s for f in files for s in load_feature_sets(f)]
        settings = workspace.settings
        store = FeatureStore(workspace, sets, online=open_online_store(settings=settings),
                             vector=FaissVectorIndex(settings=settings))
        return cls(store)

    def close(self) -> None:
        self.store.close()

    @property
    def replicas(self) -> Replicator:
        if self._replicas is None:
            self._replicas = Replicator(self.store.offline, self.store.online_store,
                                        self.store.vector_index)
        return self._replicas

    # -- definitions ----------------------------------------------------------------------

    def _nodes(self, namespace: str | None = None) -> list[Node]:
        return [n for kind in FEATURE_KINDS
                for n in self.graph.find(kind=kind, namespace=namespace, limit=1_000_000)]

    def _loaded(self, namespace: str, name: str) -> FeatureDef | None:
        return self.store.features.get(f"{namespace}/{name}")

    def features(self, namespace: str | None = None) -> list[dict[str, Any]]:
        """One entry per feature (unversioned), with its versions newest first."""
        versions: dict[tuple[str, str], list[Node]] = {}
        for node in self._nodes(namespace):
            if node.key.version is not None:
                versions.setdefault((node.key.namespace, node.key.name), []).append(node)
        return [self.describe(self.resolve(f"{ns}/{name}"))
                for ns, name in sorted(versions)]

    def resolve(self, name: str, version: str | None = None) -> ResolvedFeature:
        namespace, short, named_version = split_name(name)
        version = version or named_version
        found = [n for kind in FEATURE_KINDS
                 for n in self.graph.find(kind=kind, namespace=namespace, limit=1_000_000)
                 if n.key.name == short and n.key.version is not None]
        if not found:
            known = sorted({f"{n.key.namespace}/{n.key.name}" for n in self._nodes()})
            raise UnknownFeature(
                f"no feature {namespace}/{short} is registered",
                f"use one of {known[:20]}" if known else
                "register one first: `reelgraph features list --file FEATURES.py`")
        found.sort(key=lambda n: (n.valid_from, n.id), reverse=True)
        definition = self._loaded(namespace, short)
        if version is None:  # the loaded definition's version, else the newest registered
            version = definition.version if definition is not None else found[0].key.version
        node = next((n for n in found if n.key.version == version), None)
        if node is None:
            raise UnknownFeature(f"feature {namespace}/{short} has no version {version!r}",
                                 f"use one of {[n.key.version for n in found]}")
        if definition is not None and definition.version != version:
            definition = None  # the loaded code is another version's
        props = node.properties
        ref = FeatureRef(namespace, short, version or "", str(props.get("entity", "")),
                         dict(props.get("value", {})))
        return ResolvedFeature(ref, node, definition, found)

    def describe(self, feature: ResolvedFeature) -> dict[str, Any]:
        props = feature.node.properties
        return {
            "namespace": feature.ref.namespace, "name": feature.ref.name,
            "kind": feature.node.kind, "uri": feature.ref.uri,
            "version": feature.ref.version, "description": feature.node.description,
            "entity": feature.ref.entity, "value": feature.ref.value,
            "depends_on": list(props.get("depends_on", [])),
            "params": dict(props.get("params", {})),
            "replicate_to": feature.replicate_to,
            "loaded": feature.definition is not None,
            "versions": [{"version": n.key.version, "uri": n.uri, "registered_at": n.valid_from}
                         for n in feature.versions],
        }

    def definition(self, feature: ResolvedFeature) -> FeatureDef:
        if feature.definition is None:
            raise Conflict(
                f"the code of {feature.ref.uri} is not loaded here, so it cannot be computed",
                "pass the feature file (--file FEATURES.py, or REELGRAPH_FEATURE_FILES for the "
                "server) whose definition has this version")
        return feature.definition

    # -- reads ----------------------------------------------------------------------------

    def online(self, feature: ResolvedFeature, raw_keys: Sequence[Any]
               ) -> tuple[str, dict[str, Any]]:
        """Latest values from the fastest replica the feature has: (replica, {key: value})."""
        keys = feature.keys(raw_keys)
        if not keys:
            raise InvalidInput("no entity key given", "pass one or more keys")
        if "online" in feature.replicate_to and self.store.online_store is not None:
            return "online", self.store.online_store.get(feature.ref, keys)
        if "vector" in feature.replicate_to and self.store.vector_index is not None:
            return "vector", dict(self.store.vector_index.get(feature.ref, keys))
        raise Conflict(f"{feature.ref.uri} is not replicated to an online store",
                       "declare it with online=True (or vector=True for vectors), register it "
                       "and run `reelgraph features sync`")

    def latest(self, feature: ResolvedFeature,
               raw_keys: Sequence[Any]) -> tuple[str, dict[str, Any]]:
        """Latest values from the fastest replica, or from the offline store (the source of
        truth) for a feature kept offline only: (where from, {key: value})."""
        if "online" in feature.replicate_to or "vector" in feature.replicate_to:
            return self.online(feature, raw_keys)
        keys = feature.keys(raw_keys)
        if not keys:
            raise InvalidInput("no entity key given", "pass one or more keys")
        return "offline", self.store.offline.latest(feature.ref, keys)

    def neighbors(self, feature: ResolvedFeature, k: int, vector: Sequence[float] | None = None,
                  key: Any = None) -> list[tuple[str, float]]:
        """The ``k`` nearest entities to a vector, or to an entity's own vector (itself left
        out), by cosine similarity, best first."""
        if feature.dim is None:
            raise InvalidInput(f"{feature.ref.uri} holds {feature.ref.value.get('kind')} "
                               "values, not vectors", "ask for neighbours of an embedding")
        if "vector" not in feature.replicate_to or self.store.vector_index is None:
            raise Conflict(f"{feature.ref.uri} has no vector index",
                           "declare it with vector=True, register it and sync it")
        if not 1 <= k <= MAX_NEIGHBORS:
            raise InvalidInput(f"k={k} is out of range", f"ask for 1 to {MAX_NEIGHBORS}")
        if (vector is None) == (key is None):
            raise InvalidInput("give either a vector or an entity key, not both or neither",
                               "pass vector=[...] or key=KEY")
        if vector is None:
            entity = feature.key(key)
            own = self.store.vector_index.get(feature.ref, [entity])
            if entity not in own:
                raise NotFound(f"entity {entity!r} has no vector in {feature.ref.uri}",
                               f"compute it: `reelgraph features compute {feature.ref.namespace}/"
                               f"{feature.ref.name} {entity} --file FEATURES.py`")
            hits = self.store.vector_index.search(feature.ref, own[entity], k + 1)
            return [h for h in hits if h[0] != entity][:k]
        query = np.asarray(vector, dtype=np.float32)
        if query.shape != (feature.dim,):
            raise InvalidInput(f"the query vector has {query.size} numbers, not {feature.dim}",
                               f"send a vector of {feature.dim} floats")
        return self.store.vector_index.search(feature.ref, query, k)

    def verify(self, feature: ResolvedFeature) -> VerifyReport:
        return self.replicas.verify(feature.ref, feature.replicate_to)

    def sync(self, feature: ResolvedFeature) -> VerifyReport:
        return self.replicas.sync(feature.ref, feature.replicate_to)

    def compact(self, feature: ResolvedFeature) -> Compaction:
        """Merge the feature's offline Parquet files into one; reads answer the same."""
        return self.store.offline.compact(feature.ref)


def jsonable(value: Any) -> Any:
    """A stored value as JSON: vectors as lists of floats."""
    if isinstance(value, np.ndarray):
        return [float(x) for x in value.tolist()]
    if isinstance(value, np.generic):
        return value.item()
    return value
