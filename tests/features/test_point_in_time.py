"""Point-in-time retrieval: each row gets the value valid at its time, never a later one."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa

from reelgraph.core.settings import Settings
from reelgraph.features import EntityType, FeatureSet, FeatureStore, Scalar
from reelgraph.flows import Workspace


def at(day: int) -> datetime:
    return datetime(2026, 1, day, tzinfo=UTC)


def test_no_value_from_the_future(tmp_path: Path, sqlite_url: str) -> None:
    features = FeatureSet("ml")

    @features.feature(entity=EntityType("user", int), value=Scalar("float64"))
    def rating_count(keys: list[str]) -> dict[str, float]:
        return {}

    ws = Workspace.open(Settings.load(home=tmp_path, database_url=sqlite_url))
    store = FeatureStore(ws, [features])
    store.materialize("ml/rating_count", {1: 1.0, 2: 10.0}, event_time=at(2))
    store.materialize("ml/rating_count", {1: 5.0}, event_time=at(5))
    store.materialize("ml/rating_count", {1: 99.0}, event_time=at(9))  # the future, leaked?
    entities = pa.table({
        "user": [1, 1, 1, 1, 2, 3],
        "timestamp": pa.array([at(1), at(2), at(6), at(8), at(3), at(9)],
                              type=pa.timestamp("us", tz="UTC")),
    })
    joined = store.historical(entities, ["ml/rating_count"])
    assert joined.column("rating_count").to_pylist() == [None, 1.0, 5.0, 5.0, 10.0, None]
    assert joined.column("user").to_pylist() == [1, 1, 1, 1, 2, 3]  # rows kept in order
    assert 99.0 not in joined.column("rating_count").to_pylist()
