"""One contract suite for online stores, run against SQLite and against the Redis server."""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from reelgraph.core import Settings
from reelgraph.core.errors import InvalidInput, ReelgraphError
from reelgraph.features.online import default_online_url, open_online_store
from reelgraph.features.online.redis import RedisOnlineStore
from reelgraph.features.online.sqlite import SqliteOnlineStore
from reelgraph.features.ports import FeatureRef, OnlineStore
from reelgraph.features.values import InvalidValue


def ref(value: dict[str, Any], version: str = "v1", name: str = "f") -> FeatureRef:
    return FeatureRef("test", name, version, "title", value)


FLOAT = ref({"kind": "scalar", "dtype": "float64"}, name="score")
INT = ref({"kind": "scalar", "dtype": "int64"}, name="count")
STRING = ref({"kind": "scalar", "dtype": "string"}, name="label")
BOOL = ref({"kind": "scalar", "dtype": "bool"}, name="flag")
VECTOR = ref({"kind": "vector", "dim": 4}, name="embedding")
TABLE = ref({"kind": "table"}, name="cast")

ROUND_TRIPS: list[tuple[FeatureRef, dict[str, Any]]] = [
    (FLOAT, {"a": 0.1, "b": 1e308, "c": -2.5e-300, "d": float("inf"), "e": 3.0}),
    (INT, {"a": 0, "b": -5, "c": 2**62, "d": -(2**63)}),
    (STRING, {"a": "", "b": "123", "c": "1e3", "d": "ñ 🎬 \x00 end", "e": "0.10"}),
    (BOOL, {"a": True, "b": False}),
    (VECTOR, {"a": np.array([0.1, -2.0, 1e-30, 3.4e38], np.float32), "b": [1, 2, 3, 4]}),
    (TABLE, {"a": [{"actor": "X", "order": 1, "lead": True}, {"actor": "Ü", "score": 0.5}],
             "b": []}),
]


def same(a: Any, b: Any) -> bool:
    if isinstance(b, list | np.ndarray) and isinstance(a, np.ndarray):
        return a.dtype == np.float32 and np.array_equal(a, np.asarray(b, np.float32))
    return type(a) is type(b) and a == b


class OnlineStoreContract:
    @pytest.fixture
    def store(self) -> Iterator[OnlineStore]:
        raise NotImplementedError

    @pytest.mark.parametrize(("feature", "values"), ROUND_TRIPS,
                             ids=[f.name for f, _ in ROUND_TRIPS])
    def test_every_value_type_round_trips_exactly(
            self, store: OnlineStore, feature: FeatureRef, values: dict[str, Any]) -> None:
        store.put(feature, values)
        got = store.get(feature, list(values))
        assert set(got) == set(values)
        for key, value in values.items():
            expected = float(value) if feature is FLOAT else value
            assert same(got[key], expected), (key, got[key], value)
        assert same(store.get(feature, ["a"])["a"], got["a"])  # the one-key path

    def test_reading_several_features_at_once_matches_reading_each(
            self, store: OnlineStore) -> None:
        for feature, values in ROUND_TRIPS:
            store.put(feature, values)
        features = [feature for feature, _ in ROUND_TRIPS]
        for keys in (["a"], ["a", "b", "c", "d", "e", "absent"], ["absent"]):
            together = store.read(features, keys)
            assert len(together) == len(features)
            for feature, got in zip(features, together, strict=True):
                alone = store.get(feature, keys)
                assert set(got) == set(alone), (feature.name, keys)
                assert all(same(got[k], alone[k]) for k in got), feature.name

    def test_nan_survives(self, store: OnlineStore) -> None:
        store.put(FLOAT, {"n": float("nan")})
        assert math.isnan(store.get(FLOAT, ["n"])["n"])

    def test_vectors_come_back_writable_float32(self, store: OnlineStore) -> None:
        store.put(VECTOR, {"a": [1.0, 2.0, 3.0, 4.0]})
        vector = store.get(VECTOR, ["a"])["a"]
        vector[0] = 9.0  # a copy, not a view of read-only bytes
        assert vector.dtype == np.float32 and vector.shape == (4,)

    def test_batches_of_a_thousand_keys(self, store: OnlineStore) -> None:
        values = {f"title-{i}": float(i) / 7 for i in range(1000)}
        store.put(FLOAT, values)
        asked = [*values, *(f"absent-{i}" for i in range(10))]
        got = store.get(FLOAT, asked)
        assert got == values
        assert store.keys(FLOAT) == set(values)

    def test_missing_keys_are_absent(self, store: OnlineStore) -> None:
        store.put(FLOAT, {"a": 1.0})
        assert store.get(FLOAT, ["b"]) == {}
        assert store.get(FLOAT, ["a", "b"]) == {"a": 1.0}
        assert store.get(FLOAT, []) == {}
        assert store.get(INT, ["a"]) == {}

    def test_put_overwrites_and_delete_removes(self, store: OnlineStore) -> None:
        store.put(INT, {"a": 1, "b": 2, "c": 3})
        store.put(INT, {"a": 10})
        store.delete(INT, ["b", "never-there"])
        assert store.get(INT, ["a", "b", "c"]) == {"a": 10, "c": 3}
        assert store.keys(INT) == {"a", "c"}
        store.delete(INT, [])

    def test_feature_versions_do_not_see_each_other(self, store: OnlineStore) -> None:
        old, new = FLOAT, ref(FLOAT.value, version="v2", name="score")
        store.put(old, {"a": 1.0, "b": 2.0})
        store.put(new, {"a": 5.0})
        assert store.get(old, ["a", "b"]) == {"a": 1.0, "b": 2.0}
        assert store.get(new, ["a", "b"]) == {"a": 5.0}
        store.delete(new, ["a"])
        assert store.keys(new) == set() and store.keys(old) == {"a", "b"}

    def test_a_put_with_one_bad_value_stores_nothing(self, store: OnlineStore) -> None:
        store.put(FLOAT, {"a": 1.0})
        with pytest.raises(InvalidValue, match="'b'"):
            store.put(FLOAT, {"a": 2.0, "b": "not a number", "c": 3.0})
        assert store.get(FLOAT, ["a", "b", "c"]) == {"a": 1.0}
        with pytest.raises(InvalidValue, match="shape"):
            store.put(VECTOR, {"a": [1.0, 2.0, 3.0, 4.0], "b": [1.0, 2.0]})
        with pytest.raises(InvalidValue, match="NaN"):
            store.put(VECTOR, {"a": [1.0, 2.0, 3.0, 4.0], "b": [1.0, 2.0, float("nan"), 0]})
        with pytest.raises(InvalidValue, match="64 bits"):
            store.put(INT, {"a": 1, "b": 2**64})
        with pytest.raises(InvalidValue):
            store.put(BOOL, {"a": True, "b": 1})
        assert store.keys(VECTOR) == set() and store.keys(INT) == set()
        assert store.keys(BOOL) == set()

    def test_a_staged_generation_is_invisible_until_published_whole(
            self, store: OnlineStore) -> None:
        store.put(INT, {"a": 1, "b": 2, "c": 3})
        store.stage(INT, "w1", {"a": 10, "d": 40}, ["b"])
        assert store.staged(INT) == {"w1"}
        assert store.get(INT, ["a", "b", "c", "d"]) == {"a": 1, "b": 2, "c": 3}
        assert store.read([INT], ["a", "d"]) == [{"a": 1}]
        assert store.keys(INT) == {"a", "b", "c"}
        store.publish(INT, "w1")
        assert store.get(INT, ["a", "b", "c", "d"]) == {"a": 10, "c": 3, "d": 40}
        assert store.staged(INT) == set()
        store.publish(INT, "w1")  # a second publish (a roll-forward) changes nothing
        assert store.get(INT, ["a", "b", "c", "d"]) == {"a": 10, "c": 3, "d": 40}

    def test_a_dropped_generation_leaves_no_trace(self, store: OnlineStore) -> None:
        store.put(FLOAT, {"a": 1.0})
        store.stage(FLOAT, "w1", {"a": 2.0}, [])
        store.stage(FLOAT, "w2", {}, ["a"])
        store.drop(FLOAT, "w1")
        store.drop(FLOAT, "never-staged")
        assert store.staged(FLOAT) == {"w2"} and store.get(FLOAT, ["a"]) == {"a": 1.0}
        store.drop(FLOAT, "w2")
        store.publish(FLOAT, "w2")  # dropped: nothing to publish
        assert store.staged(FLOAT) == set() and store.get(FLOAT, ["a"]) == {"a": 1.0}

    def test_concurrent_readers(self, store: OnlineStore) -> None:
        store.put(INT, {str(i): i for i in range(100)})
        results: list[dict[str, Any]] = []

        def read() -> None:
            results.append(store.get(INT, [str(i) for i in range(100)]))

        threads = [threading.Thread(target=read) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert results == [{str(i): i for i in range(100)}] * 8


class TestSqliteOnlineStore(OnlineStoreContract):
    @pytest.fixture
    def store(self, tmp_path: Path) -> Iterator[OnlineStore]:
        store = open_online_store(f"sqlite:///{tmp_path / 'online.db'}")
        assert isinstance(store, SqliteOnlineStore)
        yield store
        store.close()

    def test_values_persist_in_the_file(self, tmp_path: Path) -> None:
        url = f"sqlite:///{tmp_path / 'sub' / 'online.db'}"
        first = open_online_store(url)
        first.put(STRING, {"a": "x"})
        first.close()
        second = open_online_store(url)
        assert second.get(STRING, ["a"]) == {"a": "x"}
        second.close()


class TestRedisOnlineStore(OnlineStoreContract):
    @pytest.fixture
    def store(self, redis_url: str) -> Iterator[OnlineStore]:
        store = open_online_store(redis_url)
        assert isinstance(store, RedisOnlineStore)
        yield store
        store.close()

    def test_one_hash_per_feature_version(self, redis_url: str) -> None:
        import redis

        store = RedisOnlineStore(redis_url)
        store.put(FLOAT, {"a": 1.5})
        client = redis.Redis.from_url(store.url)
        assert client.hget(f"{store.prefix}:feature:{FLOAT.slug}", "a") == b"1.5"
        client.close()
        store.close()


def test_an_unreachable_redis_is_a_clear_error() -> None:
    store = open_online_store("redis://127.0.0.1:1/0")  # nothing listens on port 1
    with pytest.raises(ReelgraphError, match=r"did not answer.*Fix: start Redis"):
        store.get(FLOAT, ["a"])
    with pytest.raises(ReelgraphError, match="did not answer"):
        store.put(FLOAT, {"a": 1.0})


def test_store_is_chosen_by_url_scheme(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(InvalidInput, match="no online store"):
        open_online_store("mongodb://localhost")
    with pytest.raises(InvalidInput, match="SQLite file URL"):
        open_online_store("sqlite://")
    monkeypatch.setenv("REELGRAPH_HOME", str(tmp_path))
    assert default_online_url(Settings.load()) == f"sqlite:///{tmp_path / 'features' / 'online.db'}"
    store = open_online_store(settings=Settings.load())
    store.put(BOOL, {"a": True})
    store.close()
    assert (tmp_path / "features" / "online.db").exists()


def test_the_settings_and_the_cli_select_the_redis_online_store(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, redis_url: str) -> None:
    """Issue 16, item 8: only the Python API could pick Redis; now REELGRAPH_ONLINE_URL,
    reelgraph.toml and the global ``--online-url`` do, for the CLI and the server alike."""
    from typer.testing import CliRunner

    from reelgraph.cli import app
    from reelgraph.cli.session import Session
    monkeypatch.setenv("REELGRAPH_HOME", str(tmp_path))
    monkeypatch.setenv("REELGRAPH_ONLINE_URL", redis_url)
    assert default_online_url(Settings.load()) == redis_url
    store = open_online_store(settings=Settings.load())
    try:
        store.put(BOOL, {"a": True})
        assert store.get(BOOL, ["a"]) == {"a": True}
        assert type(store).__name__ == "RedisOnlineStore"
    finally:
        store.close()
    monkeypatch.delenv("REELGRAPH_ONLINE_URL")
    assert Session(online_url=redis_url).settings().online_url == redis_url
    assert "--online-url" in CliRunner(env={"COLUMNS": "200"}).invoke(app, ["--help"]).stdout
