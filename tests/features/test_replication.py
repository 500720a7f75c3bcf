"""Replication: a write reaches every declared replica or none; verify finds drift, sync fixes it.

The offline store here is a small in-memory implementation of the ``OfflineStore`` protocol
(the Parquet store has its own suite); the replicas are the real SQLite and Redis online
stores and the real FAISS index.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from reelgraph.core.errors import InvalidInput
from reelgraph.features.online import open_online_store
from reelgraph.features.ports import FeatureRef, FeatureRows, OnlineStore
from reelgraph.features.replication import ReplicationFailed, Replicator
from reelgraph.features.values import InvalidValue
from reelgraph.features.vector import FaissVectorIndex

EMBEDDING = FeatureRef("test", "embedding", "v1", "title", {"kind": "vector", "dim": 3})
SCORE = FeatureRef("test", "score", "v1", "title", {"kind": "scalar", "dtype": "float64"})


class DictOfflineStore:
    """Every write kept by id: latest = the newest event time per key (later write wins ties)."""

    def __init__(self) -> None:
        self.writes: dict[str, list[tuple[str, str, Any, int]]] = {}
        self.staged: dict[str, list[tuple[str, str, Any, int]]] = {}

    def write(self, feature: FeatureRef, rows: FeatureRows) -> str:
        write_id = self.stage(feature, rows)
        self.commit(feature, write_id)
        return write_id

    def stage(self, feature: FeatureRef, rows: FeatureRows) -> str:
        write_id = uuid.uuid4().hex
        self.staged[write_id] = [(feature.slug, k, v, t) for k, v, t in
                                 zip(rows.keys, rows.values, rows.event_time_us, strict=True)]
        return write_id

    def commit(self, feature: FeatureRef, write_id: str) -> None:
        self.writes[write_id] = self.staged.pop(write_id)

    def discard(self, feature: FeatureRef, write_id: str) -> None:
        self.staged.pop(write_id, None)
        self.writes.pop(write_id, None)

    def committed(self, feature: FeatureRef, write_id: str) -> bool | None:
        return True if write_id in self.writes else (False if write_id in self.staged else None)

    def unfinished(self, feature: FeatureRef) -> dict[str, list[str]]:
        return {}  # one process: nothing is left by a dead writer

    def latest(self, feature: FeatureRef, keys: Sequence[str] | None = None,
               as_of_us: int | None = None, pending: str | None = None) -> dict[str, Any]:
        best: dict[str, tuple[int, Any]] = {}
        extra = [self.staged[pending]] if pending is not None else []
        for rows in [*self.writes.values(), *extra]:
            for slug, key, value, time in rows:
                if slug != feature.slug or (keys is not None and key not in keys):
                    continue
                if (as_of_us is None or time <= as_of_us) and time >= best.get(key, (time,))[0]:
                    best[key] = (time, value)
        return {key: value for key, (_, value) in best.items()}

    def keys(self, feature: FeatureRef) -> set[str]:
        return set(self.latest(feature))


def rows(values: dict[str, Any], time: int = 1) -> FeatureRows:
    return FeatureRows(list(values), list(values.values()), [time] * len(values))


@pytest.fixture(params=["sqlite", "redis"])
def online(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[OnlineStore]:
    url = (f"sqlite:///{tmp_path / 'online.db'}" if request.param == "sqlite"
           else request.getfixturevalue("redis_url"))
    store = open_online_store(url)
    yield store
    store.close()


@pytest.fixture
def replicator(online: OnlineStore, tmp_path: Path) -> Replicator:
    return Replicator(DictOfflineStore(), online, FaissVectorIndex(tmp_path / "vectors"))


def plain(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v.tolist() if isinstance(v, np.ndarray) else v for k, v in values.items()}


def vectors_of(replicator: Replicator, keys: list[str]) -> dict[str, list[float]]:
    assert replicator.vector is not None
    return plain(dict(replicator.vector.get(EMBEDDING, keys)))


def online_of(replicator: Replicator, feature: FeatureRef, keys: list[str]) -> dict[str, Any]:
    assert replicator.online is not None
    return plain(replicator.online.get(feature, keys))


def test_a_write_reaches_every_declared_replica(replicator: Replicator) -> None:
    replicator.write(EMBEDDING, rows({"a": [1, 0, 0], "b": [0, 1, 0]}))
    assert online_of(replicator, EMBEDDING, ["a", "b"]) == {"a": [1, 0, 0], "b": [0, 1, 0]}
    assert vectors_of(replicator, ["a", "b"]) == {"a": [1, 0, 0], "b": [0, 1, 0]}
    assert replicator.vector is not None
    assert replicator.vector.search(EMBEDDING, np.array([1, 0.1, 0], np.float32), 1)[0][0] == "a"
    replicator.write(SCORE, rows({"a": 0.5}))  # a scalar goes online only by default
    assert online_of(replicator, SCORE, ["a"]) == {"a": 0.5}
    assert replicator.verify(EMBEDDING).ok and replicator.verify(SCORE).ok


def test_replicas_get_the_latest_value_not_an_older_backfill(replicator: Replicator) -> None:
    replicator.write(SCORE, rows({"a": 2.0}, time=200))
    replicator.write(SCORE, rows({"a": 1.0, "b": 1.0}, time=100))
    assert online_of(replicator, SCORE, ["a", "b"]) == {"a": 2.0, "b": 1.0}


def test_a_failing_vector_replica_leaves_everything_unchanged(
        replicator: Replicator, tmp_path: Path) -> None:
    replicator.write(EMBEDDING, rows({"a": [1, 0, 0], "b": [0, 1, 0]}))
    offline_before = plain(replicator.offline.latest(EMBEDDING))
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("a file where the index directory should be")
    broken = Replicator(replicator.offline, replicator.online, FaissVectorIndex(blocked))
    with pytest.raises(ReplicationFailed, match=r"vector replica.*nothing was written"):
        broken.write(EMBEDDING, rows({"a": [9, 9, 9], "c": [0, 0, 1]}, time=5))
    assert plain(replicator.offline.latest(EMBEDDING)) == offline_before
    # The online replica had been written before the vector one failed: it is restored.
    assert online_of(replicator, EMBEDDING, ["a", "b", "c"]) == {"a": [1, 0, 0], "b": [0, 1, 0]}
    assert replicator.verify(EMBEDDING).ok


def test_an_unreachable_online_replica_leaves_everything_unchanged(tmp_path: Path) -> None:
    offline, vector = DictOfflineStore(), FaissVectorIndex(tmp_path)
    Replicator(offline, open_online_store(f"sqlite:///{tmp_path / 'x.db'}"), vector).write(
        EMBEDDING, rows({"a": [1, 0, 0]}), replicate_to={"vector"})
    down = Replicator(offline, open_online_store("redis://127.0.0.1:1/0"), vector)
    with pytest.raises(ReplicationFailed, match=r"online replica.*did not answer"):
        down.write(EMBEDDING, rows({"a": [0, 0, 1], "b": [0, 1, 0]}, time=5))
    assert plain(offline.latest(EMBEDDING)) == {"a": [1, 0, 0]}
    assert plain(dict(vector.get(EMBEDDING, ["a", "b"]))) == {"a": [1, 0, 0]}


def test_bad_rows_store_nothing(replicator: Replicator) -> None:
    with pytest.raises(InvalidValue, match="'b'"):
        replicator.write(EMBEDDING, rows({"a": [1, 0, 0], "b": [1, 0]}))
    with pytest.raises(InvalidInput, match="one of each"):
        replicator.write(SCORE, FeatureRows(["a", "b"], [1.0], [1, 1]))
    with pytest.raises(InvalidInput, match="only vectors"):
        replicator.write(SCORE, rows({"a": 1.0}), replicate_to={"vector"})
    with pytest.raises(InvalidInput, match="unknown replica"):
        replicator.write(SCORE, rows({"a": 1.0}), replicate_to={"cache"})
    assert replicator.offline.keys(EMBEDDING) == set() == replicator.offline.keys(SCORE)
    assert replicator.verify(EMBEDDING).ok


def test_verify_finds_drift_and_sync_repairs_it(replicator: Replicator) -> None:
    values = {f"t{i}": [float(i), 1.0, 0.0] for i in range(50)}
    replicator.write(EMBEDDING, rows(values))
    online, vector = replicator.online, replicator.vector
    assert online is not None and vector is not None
    online.delete(EMBEDDING, ["t1", "t2", "t3"])  # drift made directly in the replicas
    online.put(EMBEDDING, {"t4": [0.0, 0.0, 1.0], "stray": [1.0, 1.0, 1.0]})
    vector.remove(EMBEDDING, ["t5"])
    vector.upsert(EMBEDDING, ["t6"], np.array([[4.0, 4.0, 4.0]], np.float32))

    report = replicator.verify(EMBEDDING)
    assert not report.ok
    on, vec = report.replicas["online"], report.replicas["vector"]
    assert (on.missing, on.different, on.extra) == (3, 1, 1)
    assert on.sample_missing == ["t1", "t2", "t3"] and on.sample_different == ["t4"]
    assert on.sample_extra == ["stray"]
    assert (vec.missing, vec.different, vec.extra) == (1, 1, 0)
    assert vec.sample_missing == ["t5"] and vec.sample_different == ["t6"]
    assert replicator.verify(EMBEDDING) == report  # verify changed nothing
    assert report.to_dict()["replicas"]["online"]["missing"] == 3

    assert replicator.sync(EMBEDDING) == report  # sync reports what it repaired
    assert replicator.verify(EMBEDDING).ok
    assert online_of(replicator, EMBEDDING, list(values)) == values
    assert vectors_of(replicator, list(values)) == values
    assert "stray" not in online.keys(EMBEDDING)


def test_sync_fills_a_new_replica_and_verify_can_check_one(replicator: Replicator) -> None:
    replicator.write(EMBEDDING, rows({"a": [1, 0, 0], "b": [0, 1, 0]}), replicate_to={"online"})
    report = replicator.verify(EMBEDDING, replicate_to={"vector"})
    assert set(report.replicas) == {"vector"} and report.replicas["vector"].missing == 2
    replicator.sync(EMBEDDING, replicate_to={"vector"})
    assert replicator.verify(EMBEDDING).ok
