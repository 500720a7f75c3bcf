"""The FAISS vector index against brute-force cosine similarity in numpy."""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np
import pytest

from reelgraph.core import Settings
from reelgraph.core.errors import InvalidInput
from reelgraph.features.ports import FeatureRef
from reelgraph.features.values import InvalidValue
from reelgraph.features.vector import FaissVectorIndex

DIM = 32
EMBEDDING = FeatureRef("test", "embedding", "v1", "title", {"kind": "vector", "dim": DIM})


def keys_for(n: int) -> list[str]:
    return [f"k{i}" for i in range(n)]


def brute_force(vectors: np.ndarray, query: np.ndarray, k: int) -> list[int]:
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    scores = unit @ (query / np.linalg.norm(query))
    return [int(i) for i in np.argsort(-scores, kind="stable")[:k]]


def recall_at_10(index: FaissVectorIndex, vectors: np.ndarray, queries: np.ndarray) -> float:
    hits = 0
    for query in queries:
        expected = {f"k{i}" for i in brute_force(vectors, query, 10)}
        hits += len(expected & {key for key, _ in index.search(EMBEDDING, query, 10)})
    return hits / (10 * len(queries))


def clustered(rng: np.random.Generator, n: int) -> np.ndarray:
    """Random points around 50 random centres: shaped like real embeddings."""
    centres = rng.standard_normal((50, DIM))
    noise = 0.5 * rng.standard_normal((n, DIM))
    return (centres[rng.integers(0, 50, n)] + noise).astype(np.float32)


def index_kind(tmp_path: Path) -> type:
    folder = tmp_path / EMBEDDING.slug
    generation = (folder / "CURRENT").read_text()
    return type(faiss.read_index(str(folder / f"index-{generation}.faiss")))


def test_exact_search_matches_brute_force(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    vectors = rng.standard_normal((2000, DIM)).astype(np.float32)
    index = FaissVectorIndex(tmp_path)
    index.upsert(EMBEDDING, keys_for(2000), vectors)
    assert index_kind(tmp_path) is faiss.IndexFlatIP
    for query in rng.standard_normal((20, DIM)).astype(np.float32):
        found = index.search(EMBEDDING, query, 10)
        assert [key for key, _ in found] == [f"k{i}" for i in brute_force(vectors, query, 10)]
        unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
        expected = [float(unit[int(key[1:])] @ (query / np.linalg.norm(query)))
                    for key, _ in found]
        assert [score for _, score in found] == pytest.approx(expected, abs=1e-5)
        assert [s for _, s in found] == sorted((s for _, s in found), reverse=True)


def test_hnsw_above_the_threshold_has_high_recall(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    vectors = rng.standard_normal((5000, DIM)).astype(np.float32)
    index = FaissVectorIndex(tmp_path, exact_below=1000)
    index.upsert(EMBEDDING, keys_for(5000), vectors)
    assert index_kind(tmp_path) is faiss.IndexHNSWFlat
    assert recall_at_10(index, vectors, rng.standard_normal((50, DIM))) >= 0.9


def test_ivf_has_high_recall(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    vectors = clustered(rng, 5000)
    index = FaissVectorIndex(tmp_path / "default", exact_below=1000, approximate="ivf")
    index.upsert(EMBEDDING, keys_for(5000), vectors)
    assert index_kind(tmp_path / "default") is faiss.IndexIVFFlat
    assert recall_at_10(index, vectors, clustered(rng, 50)) >= 0.9
    # Unclustered Gaussian data is IVF's worst case: it needs a larger share of lists probed.
    vectors = rng.standard_normal((5000, DIM)).astype(np.float32)
    index = FaissVectorIndex(tmp_path / "wide", exact_below=1000, approximate="ivf",
                             ivf_probe_share=0.5)
    index.upsert(EMBEDDING, keys_for(5000), vectors)
    assert recall_at_10(index, vectors, rng.standard_normal((50, DIM))) >= 0.9


def test_growing_past_the_threshold_switches_to_approximate(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    vectors = rng.standard_normal((1500, DIM)).astype(np.float32)
    index = FaissVectorIndex(tmp_path, exact_below=1000)
    index.upsert(EMBEDDING, keys_for(900), vectors[:900])
    assert index_kind(tmp_path) is faiss.IndexFlatIP
    index.upsert(EMBEDDING, keys_for(1500)[900:], vectors[900:])  # appended in place
    assert index_kind(tmp_path) is faiss.IndexHNSWFlat
    assert index.keys(EMBEDDING) == set(keys_for(1500))
    assert recall_at_10(index, vectors, rng.standard_normal((20, DIM))) >= 0.9


def test_persisted_and_loaded_lazily(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    vectors = rng.standard_normal((300, DIM)).astype(np.float32)
    FaissVectorIndex(tmp_path).upsert(EMBEDDING, keys_for(300), vectors)
    FaissVectorIndex(tmp_path).upsert(EMBEDDING, ["extra"], vectors[:1] * 2)
    files = sorted(p.name for p in (tmp_path / EMBEDDING.slug).iterdir())
    assert len(files) == 5 and "CURRENT" in files and ".lock" in files  # one generation left
    reopened = FaissVectorIndex(tmp_path)
    assert reopened.keys(EMBEDDING) == {*keys_for(300), "extra"}
    got = reopened.get(EMBEDDING, ["k7", "extra", "nope"])
    assert set(got) == {"k7", "extra"}
    assert got["k7"].dtype == np.float32 and np.array_equal(got["k7"], vectors[7])
    query = rng.standard_normal(DIM).astype(np.float32)
    assert [k for k, _ in reopened.search(EMBEDDING, query, 5)] == [
        k for k, _ in FaissVectorIndex(tmp_path).search(EMBEDDING, query, 5)]


def test_a_reader_sees_another_writers_changes(tmp_path: Path) -> None:
    reader, writer = FaissVectorIndex(tmp_path), FaissVectorIndex(tmp_path)
    writer.upsert(EMBEDDING, ["a"], np.ones((1, DIM), np.float32))
    assert reader.keys(EMBEDDING) == {"a"}
    writer.upsert(EMBEDDING, ["b"], np.ones((1, DIM), np.float32))
    assert reader.keys(EMBEDDING) == {"a", "b"}


def test_upsert_replaces_and_remove_deletes(tmp_path: Path) -> None:
    rng = np.random.default_rng(6)
    vectors = rng.standard_normal((100, DIM)).astype(np.float32)
    index = FaissVectorIndex(tmp_path)
    index.upsert(EMBEDDING, keys_for(100), vectors)
    new = rng.standard_normal(DIM).astype(np.float32)
    index.upsert(EMBEDDING, ["k3", "k200"], np.stack([new, -new]))
    assert len(index.keys(EMBEDDING)) == 101
    assert np.array_equal(index.get(EMBEDDING, ["k3"])["k3"], new)
    best = index.search(EMBEDDING, new, 101)
    assert best[0][0] == "k3" and best[0][1] == pytest.approx(1.0, abs=1e-5)
    assert best[-1][0] == "k200" and best[-1][1] == pytest.approx(-1.0, abs=1e-5)
    assert [k for k, _ in best].count("k3") == 1  # the old vector of k3 is gone
    index.remove(EMBEDDING, ["k3", "k200", "never"])
    assert "k3" not in {k for k, _ in index.search(EMBEDDING, new, 200)}
    assert index.keys(EMBEDDING) == set(keys_for(100)) - {"k3"}


def test_k_larger_than_the_index_returns_what_exists(tmp_path: Path) -> None:
    index = FaissVectorIndex(tmp_path)
    query = np.ones(DIM, np.float32)
    assert index.search(EMBEDDING, query, 5) == []
    index.upsert(EMBEDDING, ["a", "b", "c"], np.eye(3, DIM, dtype=np.float32) + 0.1)
    assert len(index.search(EMBEDDING, query, 50)) == 3


def test_bad_input_writes_nothing(tmp_path: Path) -> None:
    index = FaissVectorIndex(tmp_path)
    index.upsert(EMBEDDING, ["a"], np.ones((1, DIM), np.float32))
    with pytest.raises(InvalidValue, match="shape"):
        index.upsert(EMBEDDING, ["b"], np.ones((1, DIM + 1), np.float32))
    with pytest.raises(InvalidValue, match="shape"):
        index.upsert(EMBEDDING, ["b", "c"], np.ones((1, DIM), np.float32))
    nan = np.ones((2, DIM), np.float32)
    nan[1, 3] = np.nan
    with pytest.raises(InvalidValue, match="'c'"):
        index.upsert(EMBEDDING, ["b", "c"], nan)
    assert index.keys(EMBEDDING) == {"a"}
    with pytest.raises(InvalidValue, match="zeros"):
        index.search(EMBEDDING, np.zeros(DIM, np.float32), 3)
    with pytest.raises(InvalidValue, match="shape"):
        index.search(EMBEDDING, np.ones(3, np.float32), 3)
    with pytest.raises(InvalidInput, match="k must be positive"):
        index.search(EMBEDDING, np.ones(DIM, np.float32), 0)
    scalar = FeatureRef("test", "score", "v1", "title", {"kind": "scalar", "dtype": "float64"})
    with pytest.raises(InvalidInput, match="not vectors"):
        index.upsert(scalar, ["a"], np.ones((1, DIM), np.float32))
    with pytest.raises(InvalidInput, match="unknown approximate"):
        FaissVectorIndex(tmp_path, approximate="lsh")


def test_default_directory_is_under_the_home(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REELGRAPH_HOME", str(tmp_path))
    index = FaissVectorIndex(settings=Settings.load())
    index.upsert(EMBEDDING, ["a"], np.ones((1, DIM), np.float32))
    assert (tmp_path / "features" / "vectors" / EMBEDDING.slug / "CURRENT").exists()


def test_a_staged_generation_is_invisible_until_published(tmp_path: Path) -> None:
    index = FaissVectorIndex(tmp_path)
    feature = FeatureRef("test", "staged", "v1", "title", {"kind": "vector", "dim": 3})
    index.upsert(feature, ["a", "b"], np.array([[1, 0, 0], [0, 1, 0]], np.float32))
    index.stage(feature, "w1", {"a": np.array([0, 0, 1], np.float32),
                                "c": np.array([1, 1, 0], np.float32)}, ["b"])
    reader = FaissVectorIndex(tmp_path)  # another process's view: files only
    assert reader.keys(feature) == {"a", "b"} and index.staged(feature) == {"w1"}
    assert reader.search(feature, np.array([0, 0, 1], np.float32), 1)[0][0] != "c"
    FaissVectorIndex(tmp_path).upsert(feature, ["e"], np.ones((1, 3), np.float32))  # opens
    index.publish(feature, "w1")  # CURRENT moved since staging: the changes apply again
    assert reader.keys(feature) == {"a", "c", "e"} and index.staged(feature) == set()
    assert reader.get(feature, ["a"])["a"].tolist() == [0, 0, 1]
    index.publish(feature, "w1")  # idempotent
    index.stage(feature, "w2", {"f": np.ones(3, np.float32)}, [])
    index.drop(feature, "w2")
    assert reader.keys(feature) == {"a", "c", "e"} and index.staged(feature) == set()
    assert len(list(tmp_path.rglob("keys-*.json"))) == 1  # the dropped generation's files go
