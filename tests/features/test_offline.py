"""The Parquet offline store, and bad input refused with nothing written."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from reelgraph.core.errors import InvalidInput
from reelgraph.core.settings import Settings
from reelgraph.features import (
    EntityType,
    FeatureRef,
    FeatureRows,
    FeatureSet,
    FeatureStore,
    InvalidValue,
    ParquetOfflineStore,
    UnknownFeature,
    Vector,
)
from reelgraph.flows import Workspace

REF = FeatureRef("ns", "emb", "v1", "title", {"kind": "vector", "dim": 2})


def test_latest_as_of_keys_and_discard(tmp_path: Path) -> None:
    store = ParquetOfflineStore(tmp_path)
    assert store.latest(REF) == {} and store.keys(REF) == set()
    store.write(REF, FeatureRows(["a", "b"], [[1, 2], [3, 4]], [10, 10]))
    second = store.write(REF, FeatureRows(["a"], [[5, 6]], [20]))
    assert {k: v.tolist() for k, v in store.latest(REF).items()} == {
        "a": [5, 6], "b": [3, 4]}
    assert store.latest(REF, as_of_us=15)["a"].tolist() == [1, 2]
    assert store.latest(REF, as_of_us=5) == {}
    assert list(store.latest(REF, ["b", "zz"])) == ["b"]
    assert store.keys(REF) == {"a", "b"}
    store.discard(REF, second)
    assert store.latest(REF)["a"].tolist() == [1, 2]
    assert not list(store.folder(REF).glob(".*"))  # no temporary file left behind


def test_same_event_time_later_write_wins(tmp_path: Path) -> None:
    store = ParquetOfflineStore(tmp_path)
    store.write(REF, FeatureRows(["a"], [[1, 1]], [10]))
    store.write(REF, FeatureRows(["a"], [[2, 2]], [10]))
    assert store.latest(REF)["a"].tolist() == [2, 2]


@pytest.fixture
def store(tmp_path: Path, sqlite_url: str) -> FeatureStore:
    features = FeatureSet("ns")

    @features.feature(entity=EntityType("title", int), value=Vector(2))
    def emb(keys: list[str]) -> dict[str, list[float]]:
        return {k: [1.0, 2.0] for k in keys}

    ws = Workspace.open(Settings.load(home=tmp_path, database_url=sqlite_url))
    return FeatureStore(ws, [features])


@pytest.mark.parametrize("data, error, match", [
    ({1: [1.0, 2.0], 2: [1.0, 2.0, 3.0]}, InvalidValue, "shape"),
    ({1: [1.0, 2.0], 2: [float("nan"), 1.0]}, InvalidValue, "NaN"),
    ({1: [1.0, 2.0], 2: "text"}, InvalidValue, "not a vector|shape"),
    ({1: [1.0, 2.0], "two": [1.0, 2.0]}, InvalidInput, "keys are integers"),
])
def test_bad_input_writes_nothing(store: FeatureStore, data: dict[object, object],
                                  error: type[Exception], match: str) -> None:
    ref = store.definition("ns/emb").ref
    with pytest.raises(error, match=match):
        store.materialize("ns/emb", data)
    assert store.offline.files(ref) == [] and store.offline.latest(ref) == {}


def test_unknown_feature_is_refused(store: FeatureStore) -> None:
    with pytest.raises(UnknownFeature, match="ns/emb"):
        store.materialize("ns/other", {1: [1.0, 2.0]})


def test_materialize_links_to_the_run(store: FeatureStore) -> None:
    from reelgraph.flows import Flow, Runner

    flow = Flow("make-emb", namespace="ns")

    @flow.step
    def table() -> dict[int, list[float]]:
        return {1: [0.5, 0.25]}

    run = Runner(store.ws).run(flow)
    values = store.ws.load(run.id, "table")
    assert store.materialize("ns/emb", values, event_time=100, run_id=run.id) == 1
    np.testing.assert_array_equal(store.get("ns/emb", [1])["1"], [0.5, 0.25])
    uri = store.definition("ns/emb").uri
    produced = [n.key.uri for _, e, n in store.ws.graph.edges(uri) if e.kind == "produced_by"]
    assert produced == [f"rg://run/ns/make-emb/{run.id}"]
