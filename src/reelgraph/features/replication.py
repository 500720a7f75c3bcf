"""Keeping replicas (online store, vector index) equal to the offline store.

A write is a *generation* made visible by one pointer. ``Replicator.write`` stages the rows
in the offline store (stored, not yet visible), then stages in each declared replica, in a
fixed order (online, then vector), the latest values of the written keys counting the staged
rows (so an old backfill never overwrites a newer value) -- staged data is invisible to every
read. Then it commits the offline write: that one atomic rename is the pointer that makes the
generation the truth. Last, each replica publishes its staged generation in one atomic step
of its own (a SQLite transaction, a Redis Lua script, the index's ``CURRENT`` rename).

So a crash (kill -9, power loss) before the pointer leaves every reader on the old values;
the next ``write``, ``verify`` or ``sync`` of that feature (and ``FeatureStore.register``)
drops the dead writer's staged generations (``recover``). A crash after the pointer leaves
staged replica generations whose write is committed: ``recover`` publishes them (rolls
forward). Until then -- a few milliseconds in a live write, or from a crash in that window to
the next open -- a replica still serves the previous generation, whole. The guarantee holds
against failures, not against two writers of the same keys racing each other; ``verify``
finds and ``sync`` repairs any drift.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from reelgraph.core import InvalidInput, ReelgraphError, fault_point
from reelgraph.features.online.codec import encode
from reelgraph.features.ports import (
    FeatureRef,
    FeatureRows,
    OfflineStore,
    OnlineStore,
    VectorIndex,
)
from reelgraph.features.values import ValueType, Vector, value_type_from

REPLICAS = ("online", "vector")  # also the order replicas are written in
_SAMPLE = 10  # keys listed per kind of difference in a report
_CHUNK = 10_000  # keys written to a replica at once during sync


class ReplicationFailed(ReelgraphError):
    status_code = 503


@dataclass(frozen=True)
class ReplicaReport:
    """How one replica differs from the offline store's latest values."""

    replica: str
    missing: int = 0  # keys the offline store has and the replica lacks
    different: int = 0  # keys whose values differ
    extra: int = 0  # keys the replica has and the offline store does not
    sample_missing: list[str] = field(default_factory=list)
    sample_different: list[str] = field(default_factory=list)
    sample_extra: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.missing or self.different or self.extra)


@dataclass(frozen=True)
class VerifyReport:
    """Whether each replica (online, vector) of a feature version holds what the offline store
    does."""
    feature: str  # the feature version's URI
    replicas: dict[str, ReplicaReport]

    @property
    def ok(self) -> bool:
        return all(report.ok for report in self.replicas.values())

    def to_dict(self) -> dict[str, Any]:
        return {"feature": self.feature, "ok": self.ok,
                "replicas": {name: {**vars(r), "ok": r.ok} for name, r in self.replicas.items()}}


class _Replica:
    """One replica seen as a key -> value map (the vector index included)."""

    def __init__(self, name: str, feature: FeatureRef, value_type: ValueType,
                 online: OnlineStore | None, vector: VectorIndex | None) -> None:
        self.name, self.feature, self.value_type = name, feature, value_type
        self.online, self.vector = online, vector

    def get(self, keys: Sequence[str]) -> dict[str, Any]:
        if self.vector is not None:
            return dict(self.vector.get(self.feature, keys))
        assert self.online is not None
        return self.online.get(self.feature, keys)

    def put(self, values: dict[str, Any]) -> None:
        if not values:
            return
        if self.vector is not None:
            keys = list(values)
            self.vector.upsert(self.feature, keys, np.stack([values[k] for k in keys]))
        else:
            assert self.online is not None
            self.online.put(self.feature, values)

    def delete(self, keys: Sequence[str]) -> None:
        if not keys:
            return
        if self.vector is not None:
            self.vector.remove(self.feature, keys)
        else:
            assert self.online is not None
            self.online.delete(self.feature, keys)

    def keys(self) -> set[str]:
        return self.store.keys(self.feature)

    @property
    def store(self) -> OnlineStore | VectorIndex:
        store = self.vector if self.vector is not None else self.online
        assert store is not None
        return store

    def same(self, key: str, a: Any, b: Any) -> bool:
        # Compare stored forms: exact for vectors (float32 bytes) and NaN-safe for floats.
        return encode(self.feature, self.value_type, key, a) == encode(
            self.feature, self.value_type, key, b)


class Replicator:
    def __init__(self, offline: OfflineStore, online: OnlineStore | None = None,
                 vector: VectorIndex | None = None) -> None:
        self.offline, self.online, self.vector = offline, online, vector

    def write(self, feature: FeatureRef, rows: FeatureRows,
              replicate_to: Collection[str] | None = None) -> str:
        """Write ``rows`` offline and to every replica, or to none; returns the write id."""
        replicas = self._replicas(feature, replicate_to)
        value_type = value_type_from(feature.value)
        if not (len(rows.keys) == len(rows.values) == len(rows.event_time_us)):
            raise InvalidInput(
                f"feature {feature.uri!r}: {len(rows.keys)} keys, {len(rows.values)} values "
                f"and {len(rows.event_time_us)} event times", "give one of each per row")
        checked = FeatureRows(  # bad input stores nothing: check every value first
            list(rows.keys),
            [value_type.check(feature.uri, k, v) for k, v in zip(rows.keys, rows.values,
                                                                   strict=True)],
            list(rows.event_time_us), list(rows.run_id))
        self.recover(feature, replicate_to)
        write_id = self.offline.stage(feature, checked)
        keys = list(dict.fromkeys(checked.keys))
        failed = "offline"
        try:
            latest = self.offline.latest(feature, keys, pending=write_id)
            for replica in replicas:
                failed = replica.name
                replica.store.stage(feature, write_id, {k: latest[k] for k in latest},
                                    [k for k in keys if k not in latest])
                fault_point(f"features.replica.{replica.name}.staged")
        except Exception as exc:
            self._drop(feature, replicas, write_id)
            self.offline.discard(feature, write_id)
            raise ReplicationFailed(
                f"the {failed} replica of {feature.uri!r} refused a write "
                f"({type(exc).__name__}: {exc}); nothing was written",
                f"fix the {failed} replica, then retry") from exc
        self.offline.commit(feature, write_id)  # the pointer: the generation is the truth
        fault_point("features.generation.committed")
        for replica in replicas:
            try:
                replica.store.publish(feature, write_id)
            except Exception as exc:
                raise ReplicationFailed(
                    f"the write to {feature.uri!r} is stored but its {replica.name} replica "
                    f"refused to publish it ({type(exc).__name__}: {exc})",
                    f"fix the {replica.name} replica, then run `reelgraph features sync "
                    f"{feature.uri}`") from exc
            fault_point(f"features.replica.{replica.name}.published")
        return write_id

    def recover(self, feature: FeatureRef, replicate_to: Collection[str] | None = None
                ) -> int:
        """Finish what dead writers of ``feature`` left: a generation staged offline and not
        committed is dropped from every replica, then offline; a replica's staged generation
        whose offline write is committed is published (rolled forward). A live writer's
        staged generation is left alone. Returns how many generations it finished."""
        unfinished = self.offline.unfinished(feature)
        replicas = self._replicas(feature, replicate_to)
        for write_id in unfinished:
            self._drop(feature, replicas, write_id)
            self.offline.discard(feature, write_id)
        finished = len(unfinished)
        for replica in replicas:
            try:
                staged = replica.store.staged(feature)
            except Exception as exc:
                raise ReplicationFailed(
                    f"the {replica.name} replica of {feature.uri!r} could not be checked for "
                    f"unfinished writes ({type(exc).__name__}: {exc}); nothing was written",
                    f"fix the {replica.name} replica, then retry") from exc
            for write_id in sorted(staged):  # write ids sort by write time
                state = self.offline.committed(feature, write_id)
                if state:
                    replica.store.publish(feature, write_id)
                elif state is None:  # its offline write is gone: discarded, or never made
                    replica.store.drop(feature, write_id)
                else:
                    continue  # a live writer's
                finished += 1
        return finished

    def pending(self, feature: FeatureRef, replicate_to: Collection[str] | None = None
                ) -> bool:
        """Whether ``recover`` has anything to look at (cheap: no value is read)."""
        return bool(self.offline.unfinished(feature)) or any(
            replica.store.staged(feature) for replica in self._replicas(feature, replicate_to))

    def verify(self, feature: FeatureRef, replicate_to: Collection[str] | None = None
               ) -> VerifyReport:
        """Compare each replica with the offline store's latest values; changes nothing but a
        dead writer's unfinished write, which it rolls back first."""
        self.recover(feature, replicate_to)
        truth = self.offline.latest(feature)
        return VerifyReport(feature.uri, {
            replica.name: self._compare(replica, truth)[0]
            for replica in self._replicas(feature, replicate_to)})

    def sync(self, feature: FeatureRef, replicate_to: Collection[str] | None = None
             ) -> VerifyReport:
        """Make each replica equal to the offline store; returns what it found and fixed."""
        self.recover(feature, replicate_to)
        truth = self.offline.latest(feature)
        reports: dict[str, ReplicaReport] = {}
        for replica in self._replicas(feature, replicate_to):
            report, to_put, extra = self._compare(replica, truth)
            for chunk in _chunks(to_put):
                replica.put({key: truth[key] for key in chunk})
            for chunk in _chunks(extra):
                replica.delete(chunk)
            reports[replica.name] = report
        return VerifyReport(feature.uri, reports)

    def _compare(self, replica: _Replica, truth: dict[str, Any]
                 ) -> tuple[ReplicaReport, list[str], list[str]]:
        present = replica.keys()
        missing = sorted(set(truth) - present)
        extra = sorted(present - set(truth))
        different: list[str] = []
        shared = sorted(present & set(truth))
        for chunk in _chunks(shared):
            current = replica.get(chunk)
            different.extend(k for k in chunk
                             if k not in current or not replica.same(k, truth[k], current[k]))
        report = ReplicaReport(replica.name, len(missing), len(different), len(extra),
                               missing[:_SAMPLE], different[:_SAMPLE], extra[:_SAMPLE])
        return report, missing + different, extra

    def _replicas(self, feature: FeatureRef, replicate_to: Collection[str] | None
                  ) -> list[_Replica]:
        value_type = value_type_from(feature.value)
        if replicate_to is None:
            replicate_to = [name for name, store in (("online", self.online),
                                                     ("vector", self.vector))
                            if store is not None and (name == "online"
                                                      or isinstance(value_type, Vector))]
        unknown = set(replicate_to) - set(REPLICAS)
        if unknown:
            raise InvalidInput(f"unknown replica(s) {sorted(unknown)}",
                               f"replicate to any of {list(REPLICAS)}")
        replicas = []
        for name in REPLICAS:
            if name not in replicate_to:
                continue
            if name == "online" and self.online is None:
                raise InvalidInput(f"feature {feature.uri!r} replicates online but this "
                                   "replicator has no online store", "pass online=...")
            if name == "vector":
                if self.vector is None:
                    raise InvalidInput(f"feature {feature.uri!r} replicates to a vector index "
                                       "but this replicator has none", "pass vector=...")
                if not isinstance(value_type, Vector):
                    raise InvalidInput(f"feature {feature.uri!r} holds {value_type.kind} "
                                       "values; only vectors go to a vector index",
                                       "replicate it online only")
            replicas.append(_Replica(name, feature, value_type,
                                     self.online if name == "online" else None,
                                     self.vector if name == "vector" else None))
        return replicas

    def _drop(self, feature: FeatureRef, replicas: list[_Replica], write_id: str) -> None:
        """Drop a staged generation from the replicas; one that refuses keeps it for the next
        ``recover`` (staged data is invisible, so nothing is served from it meanwhile)."""
        for replica in replicas:
            try:
                replica.store.drop(feature, write_id)
            except Exception:  # the replica is down; recover drops it later
                continue


def _chunks(keys: Sequence[str]) -> Iterable[list[str]]:
    for start in range(0, len(keys), _CHUNK):
        yield list(keys[start:start + _CHUNK])
