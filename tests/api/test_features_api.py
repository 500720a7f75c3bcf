"""``/api/v1/features`` over real stores (SQLite and PostgreSQL metadata, the SQLite online
store, the FAISS index) on genre vectors of a few MovieLens titles: definitions, online
reads, neighbours, memoized compute, verify and sync, and every kind of bad input."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from reelgraph.api import create_app
from reelgraph.core import Settings
from reelgraph.features import FeatureStore
from reelgraph.features.catalog import load_feature_sets
from reelgraph.features.online import open_online_store
from reelgraph.features.ports import FeatureRef
from reelgraph.flows import Workspace

TOKEN = "feature-token-1234"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
BASE = "/api/v1/features/movielens"

FEATURES = '''
from reelgraph.features import EntityType, FeatureSet, Scalar, Vector

GENRES = ("Animation", "Comedy", "Drama", "Thriller")
TITLES = {1: "Animation|Comedy", 2: "Comedy", 3: "Drama|Thriller", 4: "Drama|Thriller",
          5: "Animation|Comedy", 6: "Drama"}
TITLE = EntityType("title", int)
features = FeatureSet("movielens")


@features.feature(entity=TITLE, value=Vector(4), online=True, vector=True,
                  description="one-hot genres of a title")
def genres(keys):
    return {k: [float(g in TITLES[int(k)].split("|")) for g in GENRES] for k in keys}


@features.feature(entity=TITLE, value=Scalar("int64"), depends_on=["genres"])
def genre_count(keys, genres):
    return {k: int(sum(genres[k])) for k in keys}
'''


def feature_file(folder: Path) -> Path:
    path = folder / "movielens_features.py"
    path.write_text(textwrap.dedent(FEATURES))
    return path


@pytest.fixture
def settings(tmp_path: Path, graph_url: str) -> Settings:
    return Settings.load(home=str(tmp_path / "home"), database_url=graph_url, api_token=TOKEN)


@pytest.fixture
def client(settings: Settings, tmp_path: Path) -> Iterator[TestClient]:
    with Workspace.open(settings) as ws, TestClient(
            create_app(settings, ws.graph, feature_files=[feature_file(tmp_path)])) as test:
        yield test


def compute(client: TestClient, name: str, entities: list[Any], **extra: Any) -> Any:
    response = client.post(f"{BASE}/{name}/compute", json={"entities": entities, **extra},
                           headers=AUTH)
    assert response.status_code == 200, response.text
    return response.json()


def assert_error(response: Any, status: int, error: str, *words: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] == error and body["fix"]
    for word in words:
        assert word in body["problem"]


def test_list_and_show_definitions(client: TestClient) -> None:
    listed = client.get("/api/v1/features").json()["features"]
    assert [(f["namespace"], f["name"], f["kind"]) for f in listed] == [
        ("movielens", "genre_count", "feature"), ("movielens", "genres", "embedding")]
    genres = client.get(f"{BASE}/genres").json()
    assert genres["entity"] == "title" and genres["value"] == {"kind": "vector", "dim": 4}
    assert genres["replicate_to"] == ["online", "vector"] and genres["loaded"] is True
    assert genres["uri"] == f"rg://embedding/movielens/genres@{genres['version']}"
    assert [v["version"] for v in genres["versions"]] == [genres["version"]]
    count = client.get(f"{BASE}/genre_count").json()
    assert count["depends_on"] == ["genres"] and count["value"]["dtype"] == "int64"
    assert client.get("/api/v1/features", params={"namespace": "other"}).json() == {
        "features": []}


def test_compute_then_read_online_memoized(client: TestClient) -> None:
    first = compute(client, "genre_count", [1, 3, 6])
    assert sorted(first["computed"]) == ["1", "3", "6"] and first["values"] == {
        "1": 2, "3": 2, "6": 1}
    assert len(first["run_ids"]) == 2  # genres first (the dependency), then genre_count
    again = compute(client, "genre_count", [1, 3, 6, 2], include_values=False)
    assert again["reused"] == 3 and again["computed"] == ["2"] and again["values"] is None

    online = client.get(f"{BASE}/genres/online", params={"key": ["1", "6", "5"]}).json()
    assert online["source"] == "online" and online["missing"] == ["5"]
    assert online["values"] == {"1": [1.0, 1.0, 0.0, 0.0], "6": [0.0, 0.0, 1.0, 0.0]}


def test_neighbors_by_vector_and_by_key(client: TestClient) -> None:
    compute(client, "genres", list(range(1, 7)))
    by_vector = client.post(f"{BASE}/genres/neighbors",
                            json={"vector": [0, 0, 1, 1], "k": 2}).json()["neighbors"]
    assert sorted(n["key"] for n in by_vector) == ["3", "4"]
    assert by_vector[0]["score"] == pytest.approx(1.0)
    by_key = client.get(f"{BASE}/genres/neighbors", params={"key": "1", "k": 3}).json()
    assert [n["key"] for n in by_key["neighbors"]][:1] == ["5"]  # same genres; itself left out
    assert "1" not in [n["key"] for n in by_key["neighbors"]] and len(by_key["neighbors"]) == 3
    posted = client.post(f"{BASE}/genres/neighbors", json={"key": 1, "k": 1}).json()
    assert posted["neighbors"][0]["key"] == "5"


def test_verify_finds_drift_and_sync_repairs_it(client: TestClient, settings: Settings) -> None:
    compute(client, "genres", [1, 2, 3])
    clean = client.post(f"{BASE}/genres/verify").json()
    assert clean["ok"] is True and set(clean["replicas"]) == {"online", "vector"}
    version = client.get(f"{BASE}/genres").json()["version"]
    online = open_online_store(settings=settings)
    try:  # a replica loses a value behind the store's back
        online.delete(FeatureRef("movielens", "genres", version, "title",
                                 {"kind": "vector", "dim": 4}), ["2"])
    finally:
        online.close()
    drift = client.post(f"{BASE}/genres/verify").json()
    assert drift["ok"] is False and drift["replicas"]["online"]["sample_missing"] == ["2"]
    assert client.post(f"{BASE}/genres/sync").status_code == 401  # sync is a write
    repaired = client.post(f"{BASE}/genres/sync", headers=AUTH).json()
    assert repaired["replicas"]["online"]["missing"] == 1
    assert client.post(f"{BASE}/genres/verify").json()["ok"] is True
    assert "2" in client.get(f"{BASE}/genres/online", params={"key": 2}).json()["values"]


def test_reads_work_without_the_feature_file(client: TestClient, settings: Settings) -> None:
    compute(client, "genres", [1, 2, 5])
    with Workspace.open(settings) as ws, TestClient(
            create_app(settings, ws.graph, feature_files=[])) as bare:
        shown = bare.get(f"{BASE}/genres").json()
        assert shown["loaded"] is False
        values = bare.get(f"{BASE}/genres/online", params={"key": "5"}).json()["values"]
        assert values == {"5": [1.0, 1.0, 0.0, 0.0]}
        hits = bare.get(f"{BASE}/genres/neighbors", params={"key": "1", "k": 1}).json()
        assert hits["neighbors"][0]["key"] == "5"
        assert bare.post(f"{BASE}/genres/verify").json()["ok"] is True
        assert_error(bare.post(f"{BASE}/genres/compute", json={"entities": [3]},
                               headers=AUTH), 409, "Conflict", "not loaded")


def test_a_server_without_the_code_queues_requests_a_worker_serves(
        client: TestClient, settings: Settings, tmp_path: Path) -> None:
    compute(client, "genres", [1])
    with Workspace.open(settings) as ws, TestClient(
            create_app(settings, ws.graph, feature_files=[])) as bare:
        queued = bare.post(f"{BASE}/genres/requests", json={"entities": [1, 2, 3]},
                           headers=AUTH)
        assert queued.status_code == 202 and queued.json()["queued"] == ["2", "3"]
        again = bare.post(f"{BASE}/genres/requests", json={"entities": [2]}, headers=AUTH)
        assert again.json()["queued"] == []  # not queued twice
        online = bare.get(f"{BASE}/genres/online", params={"key": ["2", "3"]}).json()
        assert online["missing"] == ["2", "3"]
        worker = FeatureStore(ws, load_feature_sets(feature_file(tmp_path)))
        try:
            assert [sorted(r.computed) for r in worker.serve_requests()] == [["2", "3"]]
        finally:
            worker.close()
        online = bare.get(f"{BASE}/genres/online", params={"key": ["2", "3"]}).json()
        assert online["missing"] == [] and online["values"]["2"] == [0.0, 1.0, 0.0, 0.0]


def test_bad_input_is_refused_with_a_fix(client: TestClient) -> None:
    compute(client, "genres", [1, 2])
    assert_error(client.get(f"{BASE}/genre"), 404, "UnknownFeature", "movielens/genre")
    assert_error(client.get(f"{BASE}/genres", params={"version": "nope"}), 404,
                 "UnknownFeature", "no version 'nope'")
    assert_error(client.get(f"{BASE}/genres/online", params={"key": "abc"}), 422,
                 "InvalidInput", "integers")
    assert_error(client.get(f"{BASE}/genres/online"), 422, "InvalidInput", "key")
    assert_error(client.post(f"{BASE}/genres/neighbors", json={"vector": [1, 0, 0], "k": 2}),
                 422, "InvalidInput", "3 numbers, not 4")
    for k in (0, 1001):
        assert_error(client.get(f"{BASE}/genres/neighbors", params={"key": "1", "k": k}), 422,
                     "InvalidInput", f"k={k}")
    assert_error(client.post(f"{BASE}/genres/neighbors", json={"k": 2}), 422, "InvalidInput",
                 "either a vector or an entity key")
    assert_error(client.post(f"{BASE}/genres/neighbors", json={"vector": [0, 0, 0, 0]}), 422,
                 "InvalidValue", "all zeros")
    assert_error(client.get(f"{BASE}/genres/neighbors", params={"key": "99"}), 404, "NotFound",
                 "'99'")
    assert_error(client.get(f"{BASE}/genre_count/neighbors", params={"key": "1"}), 422,
                 "InvalidInput", "not vectors")
    assert_error(client.get(f"{BASE}/genre_count/online", params={"key": "1"}), 409,
                 "Conflict", "not replicated")
    # a bad key among good ones computes and stores nothing
    assert_error(client.post(f"{BASE}/genres/compute", json={"entities": [3, "x"]},
                             headers=AUTH), 422, "InvalidInput", "integers")
    assert client.get(f"{BASE}/genres/online", params={"key": 3}).json()["missing"] == ["3"]
    assert_error(client.post(f"{BASE}/genres/compute", json={"entities": []}, headers=AUTH),
                 422, "InvalidInput", "entities")
    assert_error(client.post(f"{BASE}/genres/compute", json={"entities": [3]}), 401,
                 "Unauthorized")


def test_an_entity_that_fails_is_reported(client: TestClient) -> None:
    report = compute(client, "genres", [1, 42])  # title 42 has no genres: KeyError
    assert report["computed"] == ["1"] and "KeyError" in report["failed"]["42"]
    assert client.get(f"{BASE}/genres/online", params={"key": 42}).json()["missing"] == ["42"]
