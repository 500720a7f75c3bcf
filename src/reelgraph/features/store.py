"""The feature store's Python API: register, get_or_compute, backfill, request, materialize.

``get_or_compute`` reads what the offline store has (memoized), claims the missing keys in
the metadata database, computes the claimed ones (dependencies first, recursively, so the
mesh resolves in topological order) as a flow run, writes them through the ``Replicator``
(offline plus the declared replicas, all or none) and waits for the keys another caller had
claimed. Values are never written without passing their value type's check.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import numpy as np
import pyarrow as pa

from reelgraph.core import InvalidInput, NotFound, now_us
from reelgraph.features.compute import (
    ComputeFailed,
    ComputeReport,
    batches_of,
    compute_flow,
)
from reelgraph.features.definition import FeatureDef, FeatureSet, UnknownFeature
from reelgraph.features.offline import ParquetOfflineStore
from reelgraph.features.ports import FeatureRef, FeatureRows, OnlineStore, VectorIndex
from reelgraph.features.replication import Replicator
from reelgraph.features.requests import FAILED, ClaimStore, claimant
from reelgraph.flows import LEASE_S, Heartbeat, Runner, Workspace, run_key
from reelgraph.graph import NodeKey

_POLL_S = 0.05  # how often a waiting caller looks at another caller's claims
FeatureLike = str | FeatureDef


class FeatureStore:
    """The feature store of a workspace: declared features computed once, stored offline
    (Parquet), replicated online and to vector indexes."""

    def __init__(self, workspace: Workspace, feature_sets: Iterable[FeatureSet] = (), *,
                 offline: ParquetOfflineStore | None = None,
                 online: OnlineStore | None = None, vector: VectorIndex | None = None,
                 executor: str | None = None, batch_size: int = 256,
                 claim_ttl_s: float = LEASE_S) -> None:
        self.ws = workspace
        self.offline = offline or ParquetOfflineStore(settings=workspace.settings)
        self._online, self._vector = online, vector
        self.claims = ClaimStore(workspace.database)
        self.executor = executor
        self.batch_size = batch_size
        self.claim_ttl_s = claim_ttl_s
        self.owner = claimant(uuid.uuid4().hex[:12])
        self.features: dict[str, FeatureDef] = {}  # "namespace/name" -> definition
        for feature_set in feature_sets:
            self.register(feature_set)

    def close(self) -> None:
        self.claims.close()
        if self._online is not None:
            self._online.close()

    # -- definitions ----------------------------------------------------------------------

    def register(self, feature_set: FeatureSet) -> list[str]:
        """Make the set's features known here and nodes in the graph; returns their URIs."""
        with self.ws.graph.batch(author=f"features:{feature_set.namespace}") as b:
            for definition in feature_set.features.values():
                self.features[f"{definition.namespace}/{definition.name}"] = definition
                b.add(definition.unversioned, description=definition.description,
                      tags=[definition.entity.name])
                b.add(definition.ref.key, description=definition.description,
                      tags=[definition.entity.name], properties={
                          "entity": definition.entity.name, "value": definition.value.describe(),
                          "params": {k: repr(v) for k, v in definition.params.items()},
                          "depends_on": list(definition.depends_on),
                          "replicate_to": sorted(definition.replicate_to)})
                b.link(definition.ref.key, "version_of", definition.unversioned)
                for dep in definition.depends_on:
                    b.link(definition.ref.key, "derived_from",
                           feature_set.features[dep].ref.key)
                for uri in definition.reads:
                    if self.ws.graph.get(uri) is not None:  # unknown inputs are not invented
                        b.link(definition.ref.key, "derived_from", NodeKey.parse(uri))
        for definition in feature_set.features.values():  # what a crashed writer left
            replicator = self.replicator
            if replicator.pending(definition.ref, definition.replicate_to):
                replicator.recover(definition.ref, definition.replicate_to)
        return [d.uri for d in feature_set.features.values()]

    def definition(self, feature: FeatureLike) -> FeatureDef:
        if isinstance(feature, FeatureDef):
            return feature
        name = feature.removeprefix("rg://")
        for definition in self.features.values():
            if feature in (definition.uri, f"{definition.namespace}/{definition.name}") or (
                    name.split("/", 1)[-1] == f"{definition.namespace}/{definition.name}"):
                return definition
        raise UnknownFeature(f"no feature {feature!r} is registered with this feature store",
                             f"register its FeatureSet, or use one of {sorted(self.features)}")

    def _keys(self, definition: FeatureDef, entities: Iterable[Any]) -> list[str]:
        return list(dict.fromkeys(definition.entity.key(e) for e in entities))

    @property
    def replicator(self) -> Replicator:
        if self._online is None and any(d.online for d in self.features.values()):
            from reelgraph.features.online import open_online_store

            self._online = open_online_store(settings=self.ws.settings)
        if self._vector is None and any(d.vector for d in self.features.values()):
            from reelgraph.features.vector import FaissVectorIndex

            self._vector = FaissVectorIndex(settings=self.ws.settings)
        return Replicator(self.offline, self._online, self._vector)

    @property
    def online_store(self) -> OnlineStore | None:
        """The online replica, if one was given or a replicated feature opened it."""
        return self._online

    @property
    def vector_index(self) -> VectorIndex | None:
        """The vector index replica, if one was given or a vector feature opened it."""
        return self._vector

    def _write(self, definition: FeatureDef, values: Mapping[str, Any],
               event_time_us: Sequence[int], run_id: str | None) -> None:
        """The one place values are stored: offline plus the declared replicas."""
        rows = FeatureRows(list(values), list(values.values()), list(event_time_us),
                           [run_id] * len(values))
        self.replicator.write(definition.ref, rows, definition.replicate_to)

    # -- reads ----------------------------------------------------------------------------

    def get(self, feature: FeatureLike, entities: Iterable[Any],
            as_of: datetime | int | None = None) -> dict[str, Any]:
        """Stored values (no computation) of the entities that have one."""
        definition = self.definition(feature)
        return self.offline.latest(definition.ref, self._keys(definition, entities),
                                   _us(as_of) if as_of is not None else None)

    def known_entities(self, entity: str) -> set[str]:
        """Every key of this entity type that any version of any registered feature has."""
        keys: set[str] = set()
        for definition in self.features.values():
            if definition.entity.name != entity:
                continue
            prefix = f"{definition.namespace}.{definition.name}."
            for folder in self.offline.root.glob(f"{prefix}*"):
                version = folder.name.removeprefix(prefix)
                ref = FeatureRef(definition.namespace, definition.name, version, entity,
                                 definition.value.describe())
                keys |= self.offline.keys(ref)
        return keys

    def historical(self, entity_table: pa.Table, features: Sequence[FeatureLike],
                   timestamp_column: str = "timestamp",
                   key_columns: Mapping[str, str] | None = None) -> pa.Table:
        """``entity_table`` with one column per feature: the value valid at each row's
        timestamp (never a later one). The key column of a feature is named after its
        entity type unless ``key_columns`` maps the entity name to another column."""
        if timestamp_column not in entity_table.column_names:
            raise InvalidInput(f"the entity table has no column {timestamp_column!r}",
                               "pass timestamp_column= naming the event time column")
        stamps = _timestamps_us(entity_table.column(timestamp_column))
        result = entity_table
        for feature in features:
            definition = self.definition(feature)
            column = (key_columns or {}).get(definition.entity.name, definition.entity.name)
            if column not in entity_table.column_names:
                raise InvalidInput(
                    f"the entity table has no key column {column!r} for feature "
                    f"{definition.name!r} (entity {definition.entity.name!r})",
                    f"add a {column!r} column or pass key_columns={{'{column}': 'COLUMN'}}")
            keys = [definition.entity.key(k) for k in entity_table.column(column).to_pylist()]
            entities = pa.table({"key": pa.array(keys, type=pa.string()), "ts_us": stamps})
            result = result.append_column(
                definition.name, self.offline.point_in_time(definition.ref, entities))
        return result

    # -- writes ---------------------------------------------------------------------------

    def materialize(self, feature: FeatureLike, data: Mapping[Any, Any] | pa.Table | Any,
                    event_time: datetime | int | None = None, run_id: str | None = None,
                    key_column: str | None = None, value_column: str = "value") -> int:
        """Store values computed elsewhere (a dict, Arrow table or DataFrame); returns the
        number of rows. Every key and value is checked first: bad input stores nothing."""
        definition = self.definition(feature)
        if run_id is not None:
            run = self.ws.runs.get(run_id)  # an unknown run is refused before any write
        pairs = _pairs(definition, data, key_column, value_column)
        values = {definition.entity.key(k): definition.value.check(definition.uri, str(k), v)
                  for k, v in pairs}
        when = _us(event_time) if event_time is not None else now_us()
        self._write(definition, values, [when] * len(values), run_id)
        if run_id is not None:
            self.ws.graph.link(definition.ref.key, "produced_by",
                               run_key(run.namespace, run.flow, run.id))
        return len(values)

    # -- memoized compute -----------------------------------------------------------------

    def get_or_compute(self, feature: FeatureLike, entities: Iterable[Any],
                       batch_size: int | None = None) -> ComputeReport:
        """Every entity's value, computing (once, across callers) only the missing ones."""
        definition = self.definition(feature)
        keys = self._keys(definition, entities)
        report = ComputeReport(definition.uri)
        report.values = self.offline.latest(definition.ref, keys)
        report.reused = len(report.values)
        todo = [k for k in keys if k not in report.values]
        owner = f"{self.owner}-{uuid.uuid4().hex[:8]}"  # one per call: threads share a store
        while todo:
            mine = self.claims.claim(definition.uri, todo, owner, self.claim_ttl_s)
            if mine:  # the claims' lease is renewed while we compute, however long it takes
                with Heartbeat(lambda: self.claims.renew(definition.uri, owner,
                                                         self.claim_ttl_s),
                               every_s=self.claim_ttl_s / 6):
                    self._compute(definition, mine, batch_size or self.batch_size, report,
                                  owner)
            others = [k for k in todo if k not in set(mine)]
            self._wait(definition.uri, others)
            found = self.offline.latest(definition.ref, todo)
            report.values.update(found)
            report.waited += [k for k in others if k in found]
            left = [k for k in todo if k not in found]
            for key, claim in self.claims.rows(definition.uri, left).items():
                if claim.status == FAILED:
                    report.failed.setdefault(key, claim.error or "failed")
            todo = [k for k in left if k not in report.failed]
        return report

    def _wait(self, uri: str, keys: list[str]) -> None:
        """Until no key is claimed by a live claimer (computed, failed, expired or dead)."""
        while keys:
            now = now_us()
            rows = self.claims.rows(uri, keys)
            keys = [k for k, c in rows.items() if c.held(now)]
            if keys:
                time.sleep(_POLL_S)

    def _compute(self, definition: FeatureDef, keys: list[str], batch_size: int,
                 report: ComputeReport, owner: str) -> None:
        failed: dict[str, str] = {}
        inputs: dict[str, dict[str, Any]] = {}
        for dep in definition.depends_on:  # recursion: dependencies resolve first
            upstream = self.get_or_compute(f"{definition.namespace}/{dep}", keys, batch_size)
            report.run_ids += upstream.run_ids
            inputs[dep] = upstream.values
            for key, error in upstream.failed.items():
                failed.setdefault(key, f"dependency {dep!r} failed: {error}")
        ready = [k for k in keys if k not in failed]
        values: dict[str, Any] = {}
        if ready:
            try:
                values, errors, run_id = self._run(definition, ready, inputs, batch_size)
            except BaseException as exc:
                self.claims.release(definition.uri, owner, [],
                                    {k: f"{type(exc).__name__}: {exc}" for k in keys})
                raise
            failed.update(errors)
            report.run_ids.append(run_id)
            if values:
                self._write(definition, values, [now_us()] * len(values), run_id)
                self.ws.graph.link(definition.ref.key, "produced_by",
                                   run_key(definition.namespace, f"feature-{definition.name}",
                                           run_id))
        report.computed += list(values)
        report.failed.update(failed)
        self.claims.release(definition.uri, owner, list(values), failed)

    def _run(self, definition: FeatureDef, keys: list[str], inputs: dict[str, dict[str, Any]],
             batch_size: int) -> tuple[dict[str, Any], dict[str, str], str]:
        reads = [self.definition(f"{definition.namespace}/{d}").uri
                 for d in definition.depends_on] + list(definition.reads)
        flow = compute_flow(definition, batches_of(keys, inputs, batch_size), reads)
        run = Runner(self.ws).run(flow, executor=self.executor)
        if run.status != "succeeded":
            raise ComputeFailed(f"the run {run.id} computing {definition.uri} failed: "
                                f"{run.error}", f"see `reelgraph runs show {run.id}`")
        values: dict[str, Any] = {}
        errors: dict[str, str] = {}
        for task in run.tasks:
            if task.step == "compute" and task.artifact is not None:
                part = self.ws.artifacts.get(task.artifact)
                values.update(part["values"])
                errors.update(part["errors"])
        return values, errors, run.id

    def backfill(self, feature: FeatureLike, entities: Iterable[Any] | None = None,
                 batch_size: int | None = None) -> ComputeReport:
        """Compute this version over every known entity of its type (or those given)."""
        definition = self.definition(feature)
        keys = (self._keys(definition, entities) if entities is not None
                else sorted(self.known_entities(definition.entity.name)))
        return self.get_or_compute(definition, keys, batch_size)

    # -- asynchronous requests ------------------------------------------------------------

    def request(self, feature: FeatureLike | FeatureRef, entities: Iterable[Any]) -> list[str]:
        """Queue the missing values for a worker and return at once; returns the keys
        queued now (those already stored, computing or queued are not queued again).

        A reader without the feature's code passes its stored ``FeatureRef`` (and checked
        string keys); the worker that serves the queue has the code."""
        if isinstance(feature, FeatureRef):
            ref, keys = feature, list(dict.fromkeys(str(e) for e in entities))
        else:
            definition = self.definition(feature)
            ref, keys = definition.ref, self._keys(definition, entities)
        present = self.offline.latest(ref, keys)
        return self.claims.enqueue(ref.uri, [k for k in keys if k not in present])

    def serve_requests(self, limit: int = 10_000) -> list[ComputeReport]:
        """One worker pass: compute every queued request (of registered features)."""
        reports = []
        for uri, keys in self.claims.queued(limit).items():
            try:
                definition = self.definition(uri)
            except NotFound:
                continue  # another worker, with that feature set, serves it
            reports.append(self.get_or_compute(definition, keys))
        return reports


def _us(when: datetime | int) -> int:
    if isinstance(when, datetime):
        if when.tzinfo is None:
            raise InvalidInput(f"time {when} has no time zone", "pass an aware datetime (UTC)")
        return int(when.timestamp() * 1_000_000)
    return int(when)


def _timestamps_us(column: pa.ChunkedArray) -> pa.Array:
    if pa.types.is_timestamp(column.type):
        if column.type.tz is None:
            raise InvalidInput("the entity table's timestamps have no time zone",
                               "use timestamps in UTC (pa.timestamp('us', tz='UTC'))")
        return column.cast(pa.timestamp("us", tz="UTC")).cast(pa.int64()).combine_chunks()
    if pa.types.is_integer(column.type):
        return column.cast(pa.int64()).combine_chunks()
    raise InvalidInput(f"the entity table's timestamps are {column.type}",
                       "use UTC timestamps or int64 microseconds since the epoch")


def _pairs(definition: FeatureDef, data: Any, key_column: str | None,
           value_column: str) -> list[tuple[Any, Any]]:
    if isinstance(data, Mapping):
        return list(data.items())
    if not isinstance(data, pa.Table) and hasattr(data, "columns"):  # a DataFrame
        data = pa.Table.from_pandas(data, preserve_index=False)
    if not isinstance(data, pa.Table):
        raise InvalidInput(f"cannot materialize a {type(data).__name__}",
                           "pass a dict of key -> value, a pyarrow Table or a DataFrame")
    column = key_column or definition.entity.name
    for name in (column, value_column):
        if name not in data.column_names:
            raise InvalidInput(f"the table has no column {name!r}",
                               "pass key_column= and value_column= naming its columns")
    values = data.column(value_column).to_pylist()
    if isinstance(definition.value.describe().get("dim"), int):
        values = [np.asarray(v, dtype=np.float32) if v is not None else v for v in values]
    return list(zip(data.column(column).to_pylist(), values, strict=True))
