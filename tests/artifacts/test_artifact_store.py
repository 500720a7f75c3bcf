"""The artifact store: content addressing, formats, atomicity, checksums."""

from __future__ import annotations

import importlib.util
import threading
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from reelgraph.artifacts import ArtifactError, ArtifactStore
from reelgraph.core import MissingDependency, NotFound


def test_values_round_trip_in_their_formats(tmp_path: Path) -> None:
    store = ArtifactStore(tmp_path)
    table = pa.table({"item": [1, 2, 3], "score": [0.5, 0.25, 0.125]})
    cases = [
        (table, "table"),
        (np.arange(12, dtype=np.float32).reshape(3, 4), "array"),
        ({"k": [1, 2.5, "x", None]}, "json"),
        ({1, 2, 3}, "pickle"),
    ]
    for value, fmt in cases:
        ref = store.put(value)
        assert ref.format == fmt
        back = store.get(ref)
        if fmt == "table":
            assert back.equals(value)
        elif fmt == "array":
            assert np.array_equal(back, value) and back.dtype == value.dtype
        else:
            assert back == value


def test_same_bytes_are_stored_once(tmp_path: Path) -> None:
    store = ArtifactStore(tmp_path)
    first, second = store.put([1, 2, 3]), store.put([1, 2, 3])
    assert first == second
    assert len(list((tmp_path / "objects").rglob("*"))) == 2  # one folder, one object


def test_unstorable_value_names_the_value(tmp_path: Path) -> None:
    store = ArtifactStore(tmp_path)
    with pytest.raises(ArtifactError, match=r"step 'fit'.*lock.*cannot be stored"):
        store.put(threading.Lock(), label="the value of step 'fit'")
    assert not [p for p in (tmp_path / "objects").rglob("*") if p.is_file()]


def test_damage_is_detected_and_missing_is_named(tmp_path: Path) -> None:
    store = ArtifactStore(tmp_path)
    ref = store.put({"weights": [1, 2, 3]})
    path = tmp_path / "objects" / ref.digest[:2] / ref.digest
    path.write_bytes(path.read_bytes().replace(b"3", b"4"))
    with pytest.raises(ArtifactError, match="damaged"):
        store.get(ref)
    path.unlink()
    with pytest.raises(NotFound, match="not in the store"):
        store.get(ref)


def test_no_temporary_files_survive_a_failed_write(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                   ) -> None:
    store = ArtifactStore(tmp_path)

    def broken_replace(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("reelgraph.core.files.os.replace", broken_replace)
    with pytest.raises(OSError):
        store.put({"a": 1})
    assert not [p for p in (tmp_path / "objects").rglob("*") if p.is_file()]


def test_fsspec_memory_store(tmp_path: Path) -> None:
    pytest.importorskip("fsspec")
    store = ArtifactStore("memory://reelgraph-test")
    ref = store.put(np.ones(5))
    assert store.exists(ref.digest)
    assert np.array_equal(ArtifactStore("memory://reelgraph-test").get(ref), np.ones(5))


def test_torch_state_dicts_are_first_class(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    model = torch.nn.Linear(4, 2)
    store = ArtifactStore(tmp_path)
    ref = store.put(model.state_dict())
    assert ref.format == "torch"
    restored = torch.nn.Linear(4, 2)
    restored.load_state_dict(store.get(ref))
    x = torch.randn(3, 4)
    assert torch.equal(model(x), restored(x))


def test_an_s3_url_without_its_extra_names_the_install() -> None:
    pytest.importorskip("fsspec")
    if importlib.util.find_spec("s3fs") is not None:
        pytest.skip("s3fs is installed")
    with pytest.raises(MissingDependency, match=r"reelgraph\[s3\]"):
        ArtifactStore("s3://reelgraph-test-bucket/artifacts")
