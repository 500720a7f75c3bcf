"""Feature writes killed half-way, on every replica (SQLite and Redis online stores, the FAISS
index): before the generation's pointer moves no reader sees any of it and the retried write
lands once; after it, every replica serves one generation whole and recovery rolls the rest
forward, once. A killed computation's claims free at once."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fault_harness import crash, python, succeed

from reelgraph.core import Database
from reelgraph.core.clock import now_us
from reelgraph.features.offline import ParquetOfflineStore
from reelgraph.features.online import open_online_store
from reelgraph.features.ports import FeatureRef, OnlineStore
from reelgraph.features.replication import Replicator
from reelgraph.features.requests import ClaimStore, claimant
from reelgraph.features.vector import FaissVectorIndex

KEYS = 2000
EMBEDDING = FeatureRef("faults", "embedding", "v1", "title", {"kind": "vector", "dim": 4})

# Writes generation GEN (every vector filled with GEN) of every key, offline plus replicas.
WRITE = """
    import sys
    import numpy as np
    from reelgraph.features.offline import ParquetOfflineStore
    from reelgraph.features.online import open_online_store
    from reelgraph.features.ports import FeatureRef, FeatureRows
    from reelgraph.features.replication import Replicator
    from reelgraph.features.vector import FaissVectorIndex
    root, online_url, gen, size = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
    feature = FeatureRef("faults", "embedding", "v1", "title", {"kind": "vector", "dim": 4})
    online = open_online_store(online_url)
    replicator = Replicator(ParquetOfflineStore(root + "/offline"), online,
                            FaissVectorIndex(root + "/vectors"))
    keys = [f"t{i}" for i in range(size)]
    rows = FeatureRows(keys, [np.full(4, gen, dtype=np.float32)] * size, [int(gen)] * size)
    replicator.write(feature, rows)
    online.close()
"""


@pytest.fixture(params=["sqlite", "redis"])
def online_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'online.db'}"
    return str(request.getfixturevalue("redis_url"))


def generations(values: dict[str, Any]) -> set[float]:
    return {float(np.asarray(v)[0]) for v in values.values()}


def read_all(online: OnlineStore, vector: FaissVectorIndex, offline: ParquetOfflineStore
             ) -> dict[str, set[float]]:
    """The generations each reader sees: fresh handles, so nothing is cached."""
    keys = [f"t{i}" for i in range(KEYS)]
    seen = {"offline": generations(offline.latest(EMBEDDING)),
            "online": generations(online.get(EMBEDDING, keys)),
            "vector": generations(FaissVectorIndex(vector.root).get(EMBEDDING, keys))}
    assert len(online.keys(EMBEDDING)) == len(vector.keys(EMBEDDING)) == KEYS
    return seen


# Killed before the pointer (the offline commit): every reader stays on generation 1.
BEFORE_POINTER = ["features.replica.online.staged",
                  pytest.param("features.replica.vector.staged", marks=pytest.mark.slow)]
# Killed after it: generation 2 is the truth; each replica serves one generation whole until
# recovery (on open) publishes the staged rest.
AFTER_POINTER = ["features.generation.committed",
                 pytest.param("features.replica.online.published", marks=pytest.mark.slow),
                 pytest.param("features.vector.before_pointer", marks=pytest.mark.slow)]


@contextmanager
def killed_second_write(tmp_path: Path, online_url: str, point: str
                        ) -> Iterator[tuple[Replicator, OnlineStore, FaissVectorIndex]]:
    """Generation 1 written whole, generation 2 killed at ``point``; fresh store handles."""
    succeed(WRITE, str(tmp_path), online_url, "1", str(KEYS))
    crash(WRITE, str(tmp_path), online_url, "2", str(KEYS), point=point)
    online = open_online_store(online_url)
    vector = FaissVectorIndex(tmp_path / "vectors")
    try:
        yield Replicator(ParquetOfflineStore(tmp_path / "offline"), online, vector), online, \
            vector
    finally:
        online.close()
        vector.close()


@pytest.mark.parametrize("point", BEFORE_POINTER)
def test_a_write_killed_before_the_pointer_is_never_seen_and_its_retry_lands_once(
        tmp_path: Path, online_url: str, point: str) -> None:
    with killed_second_write(tmp_path, online_url, point) as (replicator, online, vector):
        offline = replicator.offline
        assert isinstance(offline, ParquetOfflineStore)
        # No reader sees any of the killed generation, before any recovery ran.
        assert read_all(online, vector, offline) == {
            "offline": {1.0}, "online": {1.0}, "vector": {1.0}}
        assert not list((tmp_path / "offline").rglob("*.tmp"))
        assert offline.unfinished(EMBEDDING)  # its dead writer's staged rows
        assert replicator.pending(EMBEDDING)
        report = replicator.verify(EMBEDDING)  # recovers (drops the generation) first
        assert report.ok, report.to_dict()
        assert not replicator.pending(EMBEDDING)
        assert online.staged(EMBEDDING) == vector.staged(EMBEDDING) == set()
        assert read_all(online, vector, offline)["online"] == {1.0}

        succeed(WRITE, str(tmp_path), online_url, "2", str(KEYS))  # the retry
        assert read_all(online, vector, offline) == {
            "offline": {2.0}, "online": {2.0}, "vector": {2.0}}
        assert len(offline.files(EMBEDDING)) == 2  # generation 1 and the retry, once each
        assert replicator.verify(EMBEDDING).ok


@pytest.mark.parametrize("point", AFTER_POINTER)
def test_a_write_killed_after_the_pointer_is_rolled_forward_once(
        tmp_path: Path, online_url: str, point: str) -> None:
    with killed_second_write(tmp_path, online_url, point) as (replicator, online, vector):
        offline = replicator.offline
        assert isinstance(offline, ParquetOfflineStore)
        seen = read_all(online, vector, offline)
        assert seen["offline"] == {2.0}  # the pointer moved: generation 2 is the truth
        assert all(len(generations) == 1 for generations in seen.values()), seen  # no mix
        assert replicator.pending(EMBEDDING)
        assert replicator.recover(EMBEDDING) >= 1  # what opening a feature store runs
        assert read_all(online, vector, offline) == {
            "offline": {2.0}, "online": {2.0}, "vector": {2.0}}
        assert not replicator.pending(EMBEDDING)
        assert len(offline.files(EMBEDDING)) == 2  # generation 2 landed once, not re-run
        assert replicator.verify(EMBEDDING).ok
        assert len(list((tmp_path / "vectors").rglob("keys-*.json"))) == 1  # no orphans


CLAIM_AND_DIE = """
    import os, signal, sys
    from reelgraph.core import Database
    from reelgraph.features.requests import ClaimStore, claimant
    claims = ClaimStore(Database.open(sys.argv[1]))
    assert claims.claim("rg://feature/faults/x@v1", ["a", "b"], claimant("compute"), 600.0)
    os.kill(os.getpid(), signal.SIGKILL)  # a computation killed while holding its claims
"""


def test_the_claims_of_a_killed_computation_free_at_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'meta.db'}"
    done = python(CLAIM_AND_DIE, url)
    assert done.returncode == -9, done.stderr
    claims = ClaimStore(Database.open(url))
    try:
        held = claims.rows("rg://feature/faults/x@v1", ["a", "b"])
        assert {c.status for c in held.values()} == {"claimed"}  # a 600 s lease, but...
        assert not any(c.held(now_us()) for c in held.values())  # ...its process is gone
        mine = claims.claim("rg://feature/faults/x@v1", ["a", "b"], claimant("me"), 600.0)
        assert mine == ["a", "b"]
        assert claims.queued() == {}  # live claims are not handed out again
    finally:
        claims.close()


def test_a_write_killed_while_staging_offline_leaves_no_file_behind(tmp_path: Path) -> None:
    online_url = f"sqlite:///{tmp_path / 'online.db'}"
    succeed(WRITE, str(tmp_path), online_url, "1", "10")
    crash(WRITE, str(tmp_path), online_url, "2", "10", point="files.atomic.before_rename")
    assert len(list((tmp_path / "offline").rglob("*.tmp"))) == 1
    offline = ParquetOfflineStore(tmp_path / "offline")  # opening collects it
    assert list((tmp_path / "offline").rglob("*.tmp")) == []
    assert generations(offline.latest(EMBEDDING)) == {1.0}
    assert offline.unfinished(EMBEDDING) == {}  # nothing was staged, no replica touched


def test_a_live_claimants_lease_is_renewed_by_its_heartbeat(tmp_path: Path) -> None:
    claims = ClaimStore(Database.open(f"sqlite:///{tmp_path / 'meta.db'}"))
    uri, owner = "rg://feature/faults/x@v1", claimant("me")
    try:
        claims.claim(uri, ["a"], owner, 1.0)
        first = claims.rows(uri, ["a"])["a"].expires_at or 0
        claims.renew(uri, owner, 120.0)
        renewed = claims.rows(uri, ["a"])["a"].expires_at or 0
        assert renewed - first > 100_000_000  # pushed about two minutes further
        claims.renew(uri, claimant("someone-else"), 999.0)  # only the owner renews
        assert claims.rows(uri, ["a"])["a"].expires_at == renewed
    finally:
        claims.close()
