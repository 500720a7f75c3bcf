"""Keeping replicas (online store, vector index) equal to the offline store.

``Replicator.write`` stages the rows in the offline store (stored, not yet visible), then
writes each declared replica in a fixed order (online, then vector) with the latest values
for the written keys counting the staged rows (so an old backfill never overwrites a newer
value in a replica), and only then commits the staged rows: the offline store's one atomic
rename is the pointer that makes the new values the truth. If a replica fails, the replicas
already written get the committed values of those keys back (keys without one are deleted)
and the staged rows are dropped. If the process dies half-way (kill -9, power loss), the
staged write stays behind, naming its dead writer; the next ``write``, ``verify`` or
``sync`` of that feature (and ``FeatureStore.register``) rolls it back the same way
(``recover``), so the crash leaves the old values everywhere. The guarantee holds against
failures, not against two writers of the same keys racing each other; ``verify`` finds and
``sync`` repairs any drift.
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
        if self.vector is not None:
            return self.vector.keys(self.feature)
        assert self.online is not None
        return self.online.keys(self.feature)

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
        written: list[_Replica] = []
        failed = "offline"
        try:
            latest = self.offline.latest(feature, keys, pending=write_id)
            for replica in replicas:
                failed = replica.name
                replica.put(latest)
                replica.delete([k for k in keys if k not in latest])
                written.append(replica)
                fault_point(f"features.replica.{replica.name}.written")
        except Exception as exc:
            unrestored = self._roll_back(feature, written, keys)
            # The refusing replica may hold part of the write (a broken pipeline): best effort.
            self._roll_back(feature, [r for r in replicas if r.name == failed], keys)
            self.offline.discard(feature, write_id)
            cause = f"{type(exc).__name__}: {exc}"
            if unrestored:
                raise ReplicationFailed(
                    f"the {failed} replica of {feature.uri!r} refused a write ({cause}); the "
                    f"offline write was undone but {unrestored} could not be restored",
                    f"fix the {failed} replica, then run `reelgraph features sync "
                    f"{feature.uri}` and retry the write") from exc
            raise ReplicationFailed(
                f"the {failed} replica of {feature.uri!r} refused a write ({cause}); "
                "nothing was written", f"fix the {failed} replica, then retry") from exc
        self.offline.commit(feature, write_id)
        return write_id

    def recover(self, feature: FeatureRef, replicate_to: Collection[str] | None = None
                ) -> int:
        """Roll back the writes of ``feature`` that a dead process left unfinished (staged
        offline, maybe written to some replicas): each replica gets the committed values of
        those keys back, then the staged write is dropped. Returns how many were rolled back;
        a replica that refuses leaves the write to roll back next time."""
        unfinished = self.offline.unfinished(feature)
        replicas = self._replicas(feature, replicate_to) if unfinished else []
        for write_id, keys in unfinished.items():
            unrestored = self._roll_back(feature, replicas, list(dict.fromkeys(keys)))
            if unrestored:
                raise ReplicationFailed(
                    f"an unfinished write of {feature.uri!r} could not be rolled back in "
                    f"{unrestored}", f"fix the {unrestored[0]} replica, then retry")
            self.offline.discard(feature, write_id)
        return len(unfinished)

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

    def _roll_back(self, feature: FeatureRef, replicas: list[_Replica], keys: list[str]
                   ) -> list[str]:
        """Give the replicas the committed values of ``keys`` back (keys without one are
        deleted); names the replicas that refused."""
        unrestored = []
        committed = self.offline.latest(feature, keys)
        for replica in reversed(replicas):
            try:
                for chunk in _chunks(keys):
                    replica.put({k: committed[k] for k in chunk if k in committed})
                    replica.delete([k for k in chunk if k not in committed])
            except Exception:  # the replica is down; sync repairs it later
                unrestored.append(replica.name)
        return unrestored


def _chunks(keys: Sequence[str]) -> Iterable[list[str]]:
    for start in range(0, len(keys), _CHUNK):
        yield list(keys[start:start + _CHUNK])
