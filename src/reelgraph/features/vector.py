"""FAISS vector index: nearest neighbours by cosine similarity, one index per feature version.

Vectors are normalised and searched by inner product. Below ``exact_below`` vectors the index
is exact (``IndexFlatIP``); from there on it is approximate: HNSW (``IndexHNSWFlat``, the
default) or IVF (``IndexIVFFlat``, trained on the vectors it holds).

Each feature version lives in a directory (default
``$REELGRAPH_HOME/features/vectors/<slug>/``) holding one *generation* of files: the FAISS
index, the key list and the raw float32 vectors (kept so values read back exactly and the
index can be rebuilt). A write makes a new generation, then swaps the ``CURRENT`` pointer
with one rename, so readers see the old files or the new ones, never a mix. Writers of one
feature take a file lock. Indexes are loaded lazily and reloaded when ``CURRENT`` changes.
A replicated write ``stage``s its generation (files written, ``staged-<write id>.npz`` naming
it) and ``publish`` later moves ``CURRENT`` to it.

Position ``i`` in the index is key ``i``: appending new keys adds to the index in place;
replacing or removing keys rebuilds it (FAISS's HNSW cannot remove vectors).
"""

from __future__ import annotations

import fcntl
import json
import math
import os
import threading
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from reelgraph.core import InvalidInput, Settings, fault_point, home_folder
from reelgraph.features.inner_product import EXACT_BELOW
from reelgraph.features.ports import FeatureRef
from reelgraph.features.values import InvalidValue, Vector, value_type_from

APPROXIMATE_KINDS = ("hnsw", "ivf")


@dataclass
class _Index:
    generation: str
    keys: list[str]
    vectors: np.ndarray  # raw float32, shape (n, dim)
    index: Any  # a faiss.Index over the normalised vectors
    positions: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.positions = {key: i for i, key in enumerate(self.keys)}


class FaissVectorIndex:
    def __init__(self, root: Path | str | None = None, *, exact_below: int = EXACT_BELOW,
                 approximate: str = "hnsw", hnsw_m: int = 32, ivf_probe_share: float = 0.1,
                 settings: Settings | None = None) -> None:
        if approximate not in APPROXIMATE_KINDS:
            raise InvalidInput(f"unknown approximate index {approximate!r}",
                               f"use one of {APPROXIMATE_KINDS}")
        self.root = Path(root) if root is not None else (
            home_folder(settings, "features", "vectors"))
        self.exact_below = exact_below
        self.approximate = approximate
        self.hnsw_m = hnsw_m
        self.ivf_probe_share = ivf_probe_share
        self._loaded: dict[str, _Index] = {}
        self._lock = threading.Lock()

    # -- reads ----------------------------------------------------------------------------

    def search(self, feature: FeatureRef, vector: np.ndarray, k: int
               ) -> list[tuple[str, float]]:
        dim = _dim(feature)
        query = Vector(dim).check(feature.uri, "<query>", vector).reshape(1, dim)
        if not np.any(query):
            raise InvalidValue("the query vector is all zeros, so it has no direction",
                               "query with a non-zero vector")
        if k <= 0:
            raise InvalidInput(f"k must be positive, not {k}", "ask for k >= 1 neighbours")
        state = self._state(feature)
        if state is None or not state.keys:
            return []
        k = min(k, len(state.keys))
        _tune_search(state.index, k)
        scores, ids = state.index.search(_normalised(query), k)
        return [(state.keys[i], float(s)) for s, i in zip(scores[0], ids[0], strict=True)
                if i >= 0]

    def get(self, feature: FeatureRef, keys: Sequence[str]) -> dict[str, np.ndarray]:
        state = self._state(feature)
        if state is None:
            return {}
        return {key: state.vectors[state.positions[key]].copy()
                for key in keys if key in state.positions}

    def keys(self, feature: FeatureRef) -> set[str]:
        state = self._state(feature)
        return set(state.keys) if state else set()

    # -- writes ---------------------------------------------------------------------------

    def upsert(self, feature: FeatureRef, keys: Sequence[str], vectors: np.ndarray) -> None:
        self._apply_now(feature, keys, _checked(feature, _dim(feature), keys, vectors), ())

    def remove(self, feature: FeatureRef, keys: Sequence[str]) -> None:
        dim = _dim(feature)
        self._apply_now(feature, [], np.empty((0, dim), np.float32), keys)

    def stage(self, feature: FeatureRef, write_id: str, values: dict[str, Any],
              deleted: Sequence[str]) -> None:
        """Build the generation with these changes (its files are written, ``CURRENT`` is
        not moved) and record it with the changes themselves, in case another write moves
        ``CURRENT`` first and ``publish`` must apply them again."""
        dim = _dim(feature)
        keys = list(values)
        matrix = _checked(feature, dim, keys, np.array([values[k] for k in keys], np.float32)
                          if keys else np.empty((0, dim), np.float32))
        with self._writing(feature) as state:
            generation = self._generation(feature, state, dim, keys, matrix, deleted)
            record = _staged(self.directory(feature), write_id)
            with open(f"{record}.tmp", "wb") as handle:
                np.savez(handle, keys=np.array(keys, dtype=str), vectors=matrix,
                         deleted=np.array(list(deleted), dtype=str),
                         base=np.array(state.generation if state else ""),
                         generation=np.array(generation[0] if generation else ""))
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(f"{record}.tmp", record)

    def publish(self, feature: FeatureRef, write_id: str) -> None:
        with self._writing(feature) as state:
            record = _staged(self.directory(feature), write_id)
            try:
                with np.load(record) as saved:
                    keys, matrix = saved["keys"].tolist(), saved["vectors"]
                    deleted, base = saved["deleted"].tolist(), str(saved["base"])
                    generation = str(saved["generation"])
            except FileNotFoundError:  # published (or dropped) already
                return
            if generation and base == (state.generation if state else ""):
                self._point(feature, self._read(feature, generation), state)
            else:  # CURRENT moved since staging (or nothing changed): apply the changes again
                built = self._generation(feature, state, _dim(feature), keys, matrix, deleted)
                if built is not None:
                    self._point(feature, built[1], state)
            record.unlink()

    def drop(self, feature: FeatureRef, write_id: str) -> None:
        with self._writing(feature):
            _staged(self.directory(feature), write_id).unlink(missing_ok=True)
            _collect_generations(self.directory(feature))

    def staged(self, feature: FeatureRef) -> set[str]:
        folder = self.directory(feature)
        return {p.name.removeprefix("staged-").removesuffix(".npz")
                for p in folder.glob("staged-*.npz")} if folder.is_dir() else set()

    def close(self) -> None:
        with self._lock:
            self._loaded.clear()

    # -- storage --------------------------------------------------------------------------

    def directory(self, feature: FeatureRef) -> Path:
        return self.root / feature.slug

    def _state(self, feature: FeatureRef) -> _Index | None:
        generation = _current(self.directory(feature))
        with self._lock:
            cached = self._loaded.get(feature.slug)
            if cached is not None and cached.generation == generation:
                return cached
        if generation is None:
            return None
        state = self._read(feature, generation)
        with self._lock:
            self._loaded[feature.slug] = state
        return state

    def _read(self, feature: FeatureRef, generation: str) -> _Index:
        folder = self.directory(feature)
        keys = json.loads((folder / f"keys-{generation}.json").read_text())
        vectors = np.load(folder / f"vectors-{generation}.npy")
        index = faiss.read_index(str(folder / f"index-{generation}.faiss"))
        return _Index(generation, keys, vectors, index)

    @contextmanager
    def _writing(self, feature: FeatureRef) -> Iterator[_Index | None]:
        folder = self.directory(feature)
        folder.mkdir(parents=True, exist_ok=True)
        with open(folder / ".lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # other processes writing this feature wait here
            try:
                _collect_generations(folder)
                yield self._state(feature)
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _apply_now(self, feature: FeatureRef, keys: Sequence[str], matrix: np.ndarray,
                   deleted: Sequence[str]) -> None:
        with self._writing(feature) as state:
            built = self._generation(feature, state, _dim(feature), keys, matrix, deleted)
            if built is not None:
                self._point(feature, built[1], state)

    def _generation(self, feature: FeatureRef, state: _Index | None, dim: int,
                    keys: Sequence[str], matrix: np.ndarray, deleted: Sequence[str]
                    ) -> tuple[str, _Index] | None:
        """Write the files of a new generation: ``state`` with ``keys`` set to ``matrix``'s
        rows and ``deleted`` removed (a key in both is kept). None if nothing changes."""
        latest = {key: i for i, key in enumerate(keys)}  # a key given twice: the last wins
        old_keys = state.keys if state else []
        vectors = state.vectors if state else np.empty((0, dim), np.float32)
        positions = state.positions if state else {}
        gone = {key for key in deleted if key in positions and key not in latest}
        replaced = [key for key in latest if key in positions]
        added = [key for key in latest if key not in positions]
        if not (gone or replaced or added):
            return None
        if replaced:
            vectors = vectors.copy()
            vectors[[positions[key] for key in replaced]] = matrix[
                [latest[key] for key in replaced]]
        if gone:
            kept = [i for i, key in enumerate(old_keys) if key not in gone]
            old_keys, vectors = [old_keys[i] for i in kept], vectors[kept]
        new_keys = old_keys + added
        new_vectors = np.ascontiguousarray(
            np.vstack([vectors, matrix[[latest[key] for key in added]]]), dtype=np.float32)
        kind = self._kind_for(len(new_keys))
        if replaced or gone or state is None or _kind_of(state.index) != kind:
            index = self._build(kind, new_vectors)
        else:  # appending to an index of the right kind: add in place, no rebuild
            index = faiss.clone_index(state.index)
            index.add(_normalised(new_vectors[len(state.keys):]))
        generation = uuid.uuid4().hex[:12]
        folder = self.directory(feature)
        (folder / f"keys-{generation}.json").write_text(json.dumps(new_keys))
        np.save(folder / f"vectors-{generation}.npy", new_vectors)
        faiss.write_index(index, str(folder / f"index-{generation}.faiss"))
        for name in _files_of(generation):
            _fsync(folder / name)
        return generation, _Index(generation, new_keys, new_vectors, index)

    def _point(self, feature: FeatureRef, new: _Index, previous: _Index | None) -> None:
        """Point ``CURRENT`` at a written generation: the one atomic step."""
        folder = self.directory(feature)
        fault_point("features.vector.before_pointer")
        pointer = folder / f"CURRENT.{new.generation}.tmp"
        pointer.write_text(new.generation)
        _fsync(pointer)
        os.replace(pointer, folder / "CURRENT")
        with self._lock:
            self._loaded[feature.slug] = new
        if previous is not None:  # readers already holding the old files keep their copy
            for name in _files_of(previous.generation):
                (folder / name).unlink(missing_ok=True)

    def _kind_for(self, size: int) -> str:
        return "flat" if size < self.exact_below else self.approximate

    def _build(self, kind: str, vectors: np.ndarray) -> Any:
        return build_index(kind, _normalised(vectors), self.hnsw_m, self.ivf_probe_share)


def build_index(kind: str, vectors: np.ndarray, hnsw_m: int = 32,
                ivf_probe_share: float = 0.1) -> Any:
    """A FAISS inner-product index of ``kind`` (flat, hnsw or ivf) holding ``vectors``."""
    dim = vectors.shape[1]
    index: Any
    if kind == "flat":
        index = faiss.IndexFlatIP(dim)
    elif kind == "hnsw":
        index = faiss.IndexHNSWFlat(dim, hnsw_m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 200
    else:
        lists = max(1, min(int(math.sqrt(len(vectors))), len(vectors) // 39))
        index = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, lists,
                                   faiss.METRIC_INNER_PRODUCT)
        index.train(vectors)
        index.nprobe = max(1, math.ceil(lists * ivf_probe_share))
    index.add(vectors)
    return index


def _dim(feature: FeatureRef) -> int:
    value_type = value_type_from(feature.value)
    if not isinstance(value_type, Vector):
        raise InvalidInput(f"feature {feature.uri!r} holds {value_type.kind} values, not vectors",
                           "index only vector features")
    return value_type.dim


def _checked(feature: FeatureRef, dim: int, keys: Sequence[str], vectors: np.ndarray
             ) -> np.ndarray:
    matrix = np.asarray(vectors, dtype=np.float32)
    if matrix.ndim == 1 and len(keys) == 0:
        matrix = matrix.reshape(0, dim)
    if matrix.ndim != 2 or matrix.shape != (len(keys), dim):
        raise InvalidValue(
            f"feature {feature.uri!r} got vectors of shape {matrix.shape} for {len(keys)} keys, "
            f"not ({len(keys)}, {dim})", f"pass one vector of {dim} floats per key")
    if not np.isfinite(matrix).all():
        bad = keys[int(np.flatnonzero(~np.isfinite(matrix).all(axis=1))[0])]
        raise InvalidValue(f"feature {feature.uri!r} got NaN or infinity in the vector of "
                           f"entity {bad!r}", "fix the computation before indexing")
    return matrix


def _normalised(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    # A zero vector stays zero (it matches nothing) rather than becoming NaN.
    return np.ascontiguousarray(vectors / np.where(norms == 0, 1, norms), dtype=np.float32)


def _kind_of(index: Any) -> str:
    if isinstance(index, faiss.IndexHNSWFlat):
        return "hnsw"
    return "ivf" if isinstance(index, faiss.IndexIVFFlat) else "flat"


def _tune_search(index: Any, k: int) -> None:
    if isinstance(index, faiss.IndexHNSWFlat):
        index.hnsw.efSearch = max(128, 2 * k)


def _current(folder: Path) -> str | None:
    try:
        return (folder / "CURRENT").read_text().strip() or None
    except FileNotFoundError:
        return None


def _collect_generations(folder: Path) -> None:
    """Remove what a writer killed before its commit left: files of generations that neither
    ``CURRENT`` nor a staged record names. Called with the feature's write lock held."""
    keep = {_current(folder)}
    for record in folder.glob("staged-*.npz"):
        try:
            with np.load(record) as saved:
                keep.add(str(saved["generation"]))
        except (OSError, ValueError, KeyError):  # unreadable: its generation goes too
            record.unlink(missing_ok=True)
    for path in folder.iterdir():
        stem, _, rest = path.name.partition("-")
        generation = rest.split(".", 1)[0]
        orphan = stem in ("keys", "vectors", "index") and generation not in keep
        if orphan or (path.name.startswith(("CURRENT.", "staged-")) and path.suffix == ".tmp"):
            path.unlink(missing_ok=True)


def _staged(folder: Path, write_id: str) -> Path:
    return folder / f"staged-{write_id}.npz"


def _files_of(generation: str) -> tuple[str, str, str]:
    return (f"keys-{generation}.json", f"vectors-{generation}.npy",
            f"index-{generation}.faiss")


def _fsync(path: Path) -> None:
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())
