"""The storage seams of the feature store, one ``Protocol`` per access pattern.

Values cross these seams as ``FeatureRows``: entity keys (strings), values (already checked
against the feature's value type), and the time each value became valid (event time,
microseconds since the epoch, UTC). A feature's values are identified by ``FeatureRef``
(namespace, name, version); a new version never touches an old version's values.

- ``OfflineStore`` is the source of truth (Parquet files queried with DuckDB): every value
  ever written, with its validity time, so point-in-time reads are possible.
- ``OnlineStore`` holds the latest value per key for low-latency reads (SQLite, Redis).
- ``VectorIndex`` holds the latest vector per key for nearest-neighbour reads (FAISS).

Online stores and vector indexes are *replicas*: ``replication.Replicator`` writes to the
offline store and to every replica a feature declares, or to none of them. Each replica can
hold a *staged* generation (``stage``: stored, invisible to every read) and make it visible in
one atomic step (``publish``); ``publish`` and ``drop`` are idempotent, so a crashed write can
be rolled forward or back later.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from reelgraph.graph import NodeKey


@dataclass(frozen=True)
class FeatureRef:
    """A stored feature version as the stores see it: namespace, name, version, entity and value
    spec."""
    namespace: str
    name: str
    version: str
    entity: str
    value: dict[str, Any]  # the value type's description (values.value_type_from)

    @property
    def key(self) -> NodeKey:
        kind = "embedding" if self.value.get("kind") == "vector" else "feature"
        return NodeKey(kind, self.namespace, self.name, self.version)

    @property
    def uri(self) -> str:
        return self.key.uri

    @property
    def slug(self) -> str:
        """A file- and key-safe name for this version's storage."""
        return f"{self.namespace}.{self.name}.{self.version}"


@dataclass
class FeatureRows:
    """Rows to write to a feature: keys, values, event times and the producing run."""
    keys: list[str]
    values: list[Any]
    event_time_us: list[int]
    run_id: list[str | None] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.keys)


class OfflineStore(Protocol):
    """Every value ever written, the source of truth: append-only, a write visible whole or
    not at all; "the value at T" is the row with the greatest event time <= T (UTC µs), the
    later write winning between equal event times."""

    def write(self, feature: FeatureRef, rows: FeatureRows) -> str:
        """Append rows atomically (one new file, renamed into place); returns its id."""
        ...

    def stage(self, feature: FeatureRef, rows: FeatureRows) -> str:
        """Store rows as an unfinished write of this process, invisible to every read
        (``pending`` aside) until ``commit``; returns its id."""
        ...

    def commit(self, feature: FeatureRef, write_id: str) -> None:
        """Make a staged write visible, in one atomic step."""
        ...

    def discard(self, feature: FeatureRef, write_id: str) -> None:
        """Drop a staged (or written) write (used when a replica refuses the same rows)."""
        ...

    def unfinished(self, feature: FeatureRef) -> dict[str, list[str]]:
        """Staged writes whose process has died, as write id -> the keys they wrote."""
        ...

    def committed(self, feature: FeatureRef, write_id: str) -> bool | None:
        """True once the write is committed, False while it is staged, None if unknown
        (never written, or discarded)."""
        ...

    def latest(self, feature: FeatureRef, keys: Sequence[str] | None = None,
               as_of_us: int | None = None, pending: str | None = None) -> dict[str, Any]:
        """The value valid at ``as_of_us`` (default: the newest) per key that has one;
        with ``pending``, as if that staged write were committed."""
        ...

    def keys(self, feature: FeatureRef) -> set[str]:
        """Every key that has a committed value."""
        ...


class StagedReplica(Protocol):
    """A replica that takes a generation in two steps, so that a replicated write becomes
    visible only once every replica holds it (``features.replication``)."""

    def stage(self, feature: FeatureRef, write_id: str, values: dict[str, Any],
              deleted: Sequence[str]) -> None:
        """Store a generation (new values, keys it removes) that no read sees yet."""
        ...

    def publish(self, feature: FeatureRef, write_id: str) -> None:
        """Make a staged generation visible in one atomic step (a no-op once done)."""
        ...

    def drop(self, feature: FeatureRef, write_id: str) -> None:
        """Forget a staged generation (a no-op if there is none)."""
        ...

    def staged(self, feature: FeatureRef) -> set[str]:
        """The write ids of the generations staged and not yet published or dropped."""
        ...


class OnlineStore(StagedReplica, Protocol):
    """A replica of the latest value per key, for serving; rebuilt from the offline store
    by ``sync`` when it drifts."""

    def put(self, feature: FeatureRef, values: dict[str, Any]) -> None:
        """Set the latest values of these keys, all or none."""
        ...

    def get(self, feature: FeatureRef, keys: Sequence[str]) -> dict[str, Any]:
        """Values of the keys that have one (missing keys are absent)."""
        ...

    def read(self, features: Sequence[FeatureRef], keys: Sequence[str]
             ) -> list[dict[str, Any]]:
        """Several features of the same keys at once (one dict per feature, in order): the
        serving path, one query or round trip instead of one per feature."""
        ...

    def delete(self, feature: FeatureRef, keys: Sequence[str]) -> None:
        """Forget the keys' values, all or none (absent keys are no error)."""
        ...

    def keys(self, feature: FeatureRef) -> set[str]:
        """Every key that has a value."""
        ...

    def close(self) -> None:
        """Release connections; the store is not used afterwards."""
        ...


class VectorIndex(StagedReplica, Protocol):
    """A replica of the latest vector per key with cosine nearest-neighbour search."""

    def upsert(self, feature: FeatureRef, keys: Sequence[str], vectors: np.ndarray) -> None:
        """Set the keys' vectors (one row each), replacing older ones, all or none."""
        ...

    def remove(self, feature: FeatureRef, keys: Sequence[str]) -> None:
        """Drop the keys' vectors (absent keys are no error)."""
        ...

    def get(self, feature: FeatureRef, keys: Sequence[str]) -> dict[str, np.ndarray]:
        """The stored (not normalised) vectors of the keys that have one."""
        ...

    def search(self, feature: FeatureRef, vector: np.ndarray, k: int
               ) -> list[tuple[str, float]]:
        """The ``k`` nearest keys by cosine similarity, best first."""
        ...

    def keys(self, feature: FeatureRef) -> set[str]:
        """Every key that has a vector."""
        ...

