"""Feature writes killed half-way, on every replica (SQLite and Redis online stores, the FAISS
index): the killed generation is never visible, the next open rolls back what a replica
already took, verify finds no drift, and the retried write lands once. A killed computation's
claims free at once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fault_harness import crash, python, succeed

from reelgraph.core import Database
from reelgraph.core.clock import now_us
from reelgraph.features.offline import ParquetOfflineStore
from reelgraph.features.online import open_online_store
from reelgraph.features.ports import FeatureRef
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


@pytest.mark.parametrize("point", [
    "features.replica.online.written",  # online holds the new values, the index the old
    pytest.param("features.vector.before_pointer", marks=pytest.mark.slow),  # mid-commit
    pytest.param("features.replica.vector.written", marks=pytest.mark.slow),  # both hold it
])
def test_a_write_killed_at_any_replica_is_rolled_back_and_retried_once(
        tmp_path: Path, online_url: str, point: str) -> None:
    args = (str(tmp_path), online_url)
    succeed(WRITE, *args, "1", str(KEYS))
    crash(WRITE, *args, "2", str(KEYS), point=point)

    offline = ParquetOfflineStore(tmp_path / "offline")
    online = open_online_store(online_url)
    vector = FaissVectorIndex(tmp_path / "vectors")
    keys = [f"t{i}" for i in range(KEYS)]
    try:
        # The killed generation never became the truth, and no temporary file is left.
        assert generations(offline.latest(EMBEDDING)) == {1.0}
        assert not list((tmp_path / "offline").rglob("*.tmp"))
        assert offline.unfinished(EMBEDDING)  # its dead writer's staged rows, to roll back
        replicator = Replicator(offline, online, vector)
        report = replicator.verify(EMBEDDING)  # rolls back first, then compares
        assert report.ok, report.to_dict()
        assert not offline.unfinished(EMBEDDING)
        assert generations(online.get(EMBEDDING, keys)) == {1.0}
        assert generations(vector.get(EMBEDDING, keys)) == {1.0}
        assert len(online.keys(EMBEDDING)) == len(vector.keys(EMBEDDING)) == KEYS

        succeed(WRITE, *args, "2", str(KEYS))  # the retry
        assert generations(offline.latest(EMBEDDING)) == {2.0}
        assert len(offline.files(EMBEDDING)) == 2  # generation 1 and the retry, once each
        assert generations(online.get(EMBEDDING, keys)) == {2.0}
        assert generations(vector.get(EMBEDDING, keys)) == {2.0}
        assert replicator.verify(EMBEDDING).ok
    finally:
        online.close()
        vector.close()


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
