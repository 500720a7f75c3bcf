"""How fast are reelgraph's feature reads next to Feast's, with the same values in both?

Writes one seeded data set to both systems, then times, in one run:

- online read of one entity (all features), p50/p99: reelgraph's SQLite online store
  (``open_online_store("sqlite:///...")``, ``read`` of all four features at once) against Feast's
  ``get_online_features(...).to_dict()`` on its SQLite online store;
- online reads of batches of 1,000 entities: entities per second and ms per batch;
- offline point-in-time join of a 1,000,000-row entity table (key, timestamp) against
  every version of the features: reelgraph's ``ParquetOfflineStore.point_in_time`` (Parquet +
  DuckDB ``ASOF JOIN``, one call per feature) against Feast's
  ``get_historical_features(...).to_df()`` (its file/dask offline store, over one Parquet
  file holding the same rows).

Data: ``--entities`` users (default 100,000), each with ``--versions`` versions (default 5)
of three scalars (``score`` float64, ``clicks`` int64, ``ctr`` float64) and a 32-dim float32
``embedding``, at increasing event times during 2025. The online stores get each user's
newest version. Both systems' answers are checked against the generated values (online: a
sample of users; point-in-time: every row for the scalars, a sample for the embedding).

    python benchmarks/feature_store.py                     # full size, ~5-8 minutes
    python benchmarks/feature_store.py --entities 10000 --pit-rows 100000   # quick check

Feast (``pip install feast``) runs in this interpreter; it adds packages but changes no
version pinned in requirements.lock.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from machine import machine, save
from machine import versions as package_versions
from reelgraph.features.offline import ParquetOfflineStore
from reelgraph.features.online import open_online_store
from reelgraph.features.ports import FeatureRef, FeatureRows, OnlineStore

HERE = Path(__file__).resolve().parent
WORK = HERE / "work" / "feature_store"
RESULTS = HERE / "results" / "feature_store.json"

DIM = 32
T0_S = int(datetime(2025, 1, 1, tzinfo=UTC).timestamp())
SPAN_S = 365 * 24 * 3600
SCALARS = {"score": "float64", "clicks": "int64", "ctr": "float64"}
NAMES = [*SCALARS, "embedding"]


# -- the data ---------------------------------------------------------------------------


class Data:
    """Every version of every feature, as arrays indexed [entity, version]."""

    def __init__(self, entities: int, versions: int, seed: int) -> None:
        rng = np.random.default_rng(seed)
        self.keys = [f"user{i:07d}" for i in range(entities)]
        # Version j of an entity falls in the j-th slice of the year: times increase.
        slice_s = SPAN_S // versions
        offsets = rng.integers(0, slice_s, size=(entities, versions))
        self.times_s = T0_S + np.arange(versions) * slice_s + offsets
        self.values: dict[str, np.ndarray] = {
            "score": rng.random((entities, versions)),
            "clicks": rng.integers(0, 1_000_000, size=(entities, versions), dtype=np.int64),
            "ctr": rng.random((entities, versions)),
            "embedding": rng.standard_normal((entities, versions, DIM)).astype(np.float32),
        }

    @property
    def entities(self) -> int:
        return len(self.keys)

    @property
    def versions(self) -> int:
        return int(self.times_s.shape[1])

    def rows(self) -> tuple[list[str], np.ndarray]:
        """Keys and event times (s) of every version, flattened entity-major."""
        keys = [k for k in self.keys for _ in range(self.versions)]
        return keys, self.times_s.reshape(-1)

    def flat(self, name: str) -> np.ndarray:
        values = self.values[name]
        return values.reshape(-1, DIM) if name == "embedding" else values.reshape(-1)

    def latest(self, name: str, index: int) -> Any:
        return self.values[name][index, -1]

    def entity_table(self, rows: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
        """Random (entity index, time s) pairs; ~5% fall before the entity's first version."""
        rng = np.random.default_rng(seed + 1)
        entity = rng.integers(0, self.entities, size=rows)
        when = rng.integers(T0_S - SPAN_S // 20, T0_S + SPAN_S, size=rows)
        return entity, when

    def expected_version(self, entity: np.ndarray, when: np.ndarray) -> np.ndarray:
        """The version valid at each time (event time <= time), -1 where none is."""
        return (self.times_s[entity] <= when[:, None]).sum(axis=1) - 1


# -- reelgraph --------------------------------------------------------------------------


def refs() -> dict[str, FeatureRef]:
    made = {name: FeatureRef("bench", name, "v1", "user", {"kind": "scalar", "dtype": dtype})
            for name, dtype in SCALARS.items()}
    made["embedding"] = FeatureRef("bench", "embedding", "v1", "user",
                                   {"kind": "vector", "dim": DIM})
    return made


class Reelgraph:
    def __init__(self, folder: Path) -> None:
        self.refs = refs()
        self.online: OnlineStore = open_online_store(f"sqlite:///{folder / 'online.db'}")
        self.offline = ParquetOfflineStore(folder / "offline")

    def load(self, data: Data) -> dict[str, float]:
        started = time.perf_counter()
        for name, ref in self.refs.items():
            latest = data.values[name][:, -1]
            values = list(latest) if name == "embedding" else latest.tolist()
            self.online.put(ref, dict(zip(data.keys, values, strict=True)))
        online_s = time.perf_counter() - started
        started = time.perf_counter()
        keys, times_s = data.rows()
        times_us = (times_s * 1_000_000).tolist()
        for name, ref in self.refs.items():
            flat = data.flat(name)
            values = list(flat) if name == "embedding" else flat.tolist()
            self.offline.write(ref, FeatureRows(keys, values, times_us))
        return {"online_write_s": online_s, "offline_write_s": time.perf_counter() - started}

    def read(self, keys: Sequence[str]) -> dict[str, dict[str, Any]]:
        # All features of the entities at once, like Feast's get_online_features.
        values = self.online.read(list(self.refs.values()), keys)
        return dict(zip(self.refs, values, strict=True))

    def point_in_time(self, keys: list[str], when_s: np.ndarray) -> pa.Table:
        entities = pa.table({"key": pa.array(keys, type=pa.string()),
                             "ts_us": pa.array(when_s * 1_000_000, type=pa.int64())})
        columns = {name: self.offline.point_in_time(ref, entities)
                   for name, ref in self.refs.items()}
        return pa.table({"key": entities.column("key"), "ts_us": entities.column("ts_us"),
                         **columns})  # in the entity table's row order

    def close(self) -> None:
        self.online.close()


# -- Feast ------------------------------------------------------------------------------


class Feast:
    VIEW = "user_features"

    def __init__(self, folder: Path, data: Data) -> None:
        from feast import Entity, FeatureStore, FeatureView, Field, FileSource, ValueType
        from feast.repo_config import RepoConfig
        from feast.types import Array, Float32, Float64, Int64

        self.folder = folder
        self.source = folder / "user_features.parquet"
        keys, times_s = data.rows()
        table = pa.table({
            "user": pa.array(keys, type=pa.string()),
            "event_timestamp": pa.array(times_s * 1_000_000, type=pa.int64()).cast(
                pa.timestamp("us", tz="UTC")),
            **{name: pa.array(data.flat(name)) for name in SCALARS},
            "embedding": pa.FixedSizeListArray.from_arrays(
                pa.array(data.flat("embedding").reshape(-1)), DIM).cast(
                pa.list_(pa.float32())),
        })
        pq.write_table(table, self.source)
        config = RepoConfig(
            project="reelgraph_bench", provider="local", repo_path=str(folder),
            registry=str(folder / "registry.db"),
            online_store={"type": "sqlite", "path": str(folder / "online.db")},
            offline_store={"type": "file"}, entity_key_serialization_version=3)
        self.store = FeatureStore(config=config)
        user = Entity(name="user", join_keys=["user"], value_type=ValueType.STRING)
        types = {"float64": Float64, "int64": Int64}
        view = FeatureView(
            name=self.VIEW, entities=[user], ttl=timedelta(days=3650), online=True,
            schema=[*(Field(name=n, dtype=types[t]) for n, t in SCALARS.items()),
                    Field(name="embedding", dtype=Array(Float32))],
            source=FileSource(path=str(self.source), timestamp_field="event_timestamp"))
        self.store.apply([user, view])
        self.features = [f"{self.VIEW}:{name}" for name in NAMES]
        self._latest = table  # the newest rows go online in load()
        self._versions = data.versions

    def load(self) -> dict[str, float]:
        newest = self._latest.take(pa.array(
            np.arange(self._versions - 1, self._latest.num_rows, self._versions)))
        started = time.perf_counter()
        self.store.write_to_online_store(self.VIEW, newest.to_pandas())
        return {"online_write_s": time.perf_counter() - started}

    def read(self, keys: Sequence[str]) -> dict[str, list[Any]]:
        answer: dict[str, list[Any]] = self.store.get_online_features(
            features=self.features, entity_rows=[{"user": k} for k in keys]).to_dict()
        return answer

    def point_in_time(self, keys: list[str], when_s: np.ndarray) -> Any:
        import pandas as pd

        entity_df = pd.DataFrame({
            "user": keys,
            "event_timestamp": pd.to_datetime(when_s, unit="s", utc=True),
            "row_id": np.arange(len(keys)),
        })
        return self.store.get_historical_features(
            entity_df=entity_df, features=self.features).to_df()


# -- timing -----------------------------------------------------------------------------


def percentile(samples: Sequence[float], q: float) -> float:
    return float(np.percentile(np.asarray(samples), q))


def timed_pairs(systems: Sequence[Callable[[Sequence[str]], Any]],
                batches: Sequence[Sequence[str]], warmup: int, block: int = 50
                ) -> list[list[float]]:
    """The systems take turns, ``block`` requests at a time, so load drift on a noisy machine
    hits both alike while each runs warm (its own code and data in the CPU caches, as in a
    serving process); returns each system's timings."""
    for batch in batches[:warmup]:
        for read in systems:
            read(batch)
    times: list[list[float]] = [[] for _ in systems]
    for start in range(0, len(batches), block):
        for read, timings in zip(systems, times, strict=True):
            for batch in batches[start:start + block]:
                started = time.perf_counter()
                read(batch)
                timings.append(time.perf_counter() - started)
    return times


def online_figures(times: list[float], batch: int) -> dict[str, float]:
    return {"p50_ms": percentile(times, 50) * 1e3, "p99_ms": percentile(times, 99) * 1e3,
            "mean_ms": float(np.mean(times)) * 1e3,
            "entities_per_s": batch * len(times) / sum(times)}


# -- checks -----------------------------------------------------------------------------


def check_online(data: Data, rg: Reelgraph, feast: Feast, sample: list[int]) -> int:
    keys = [data.keys[i] for i in sample]
    ours, theirs = rg.read(keys), feast.read(keys)
    if theirs["user"] != keys:
        raise AssertionError("Feast returned the users in another order")
    for row, (index, key) in enumerate(zip(sample, keys, strict=True)):
        for name in NAMES:
            want = data.latest(name, index)
            mine, feast_value = ours[name][key], theirs[name][row]
            if name == "embedding":
                same = (np.array_equal(mine, want)
                        and np.array_equal(np.asarray(feast_value, dtype=np.float32), want))
            else:
                same = mine == want == feast_value
            if not same:
                raise AssertionError(f"online {name} of {key}: expected {want!r}, reelgraph "
                                     f"{mine!r}, Feast {feast_value!r}")
    return len(sample) * len(NAMES)


def check_point_in_time(data: Data, entity: np.ndarray, when: np.ndarray, ours: pa.Table,
                        theirs: Any, sample: int) -> dict[str, int]:
    rows = len(entity)
    version = data.expected_version(entity, when)
    valid = version >= 0
    # Feast's file store leaves out the rows that have no value yet (reelgraph keeps them,
    # with nulls): it must return exactly the rows that have one.
    if ours.num_rows != rows or len(theirs) != int(valid.sum()):
        raise AssertionError(f"point-in-time rows: {rows} asked ({int(valid.sum())} with a "
                             f"value), reelgraph {ours.num_rows}, Feast {len(theirs)}")
    returned = len(theirs)
    theirs = theirs.set_index("row_id").reindex(np.arange(rows))
    for name in SCALARS:
        want = data.values[name][entity, np.maximum(version, 0)].astype(np.float64)
        mine = ours.column(name).to_numpy(zero_copy_only=False).astype(np.float64)
        feast_values = theirs[name].to_numpy(dtype=np.float64, na_value=np.nan)
        for label, got in (("reelgraph", mine), ("Feast", feast_values)):
            if not (np.array_equal(np.isnan(got), ~valid)
                    and np.array_equal(got[valid], want[valid])):
                raise AssertionError(f"point-in-time {name}: {label} differs from the truth")
    rng = np.random.default_rng(3)
    picked = rng.choice(rows, size=min(sample, rows), replace=False)
    mine_emb = ours.column("embedding").take(pa.array(picked)).to_pylist()
    feast_emb = theirs["embedding"].to_numpy()[picked]
    for i, m, f in zip(picked, mine_emb, feast_emb, strict=True):
        if version[i] < 0:
            if m is not None or not _missing(f):
                raise AssertionError(f"point-in-time embedding row {i}: expected none")
            continue
        want = data.values["embedding"][entity[i], version[i]]
        if not (np.array_equal(np.asarray(m, dtype=np.float32), want)
                and np.array_equal(np.asarray(f, dtype=np.float32), want)):
            raise AssertionError(f"point-in-time embedding row {i} differs")
    return {"scalar_values_checked": rows * len(SCALARS), "embedding_rows_checked": len(picked),
            "rows_without_value": int((~valid).sum()), "feast_rows_returned": returned}


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value))


# -- report -----------------------------------------------------------------------------


def versions() -> dict[str, str]:
    return package_versions("feast", "duckdb", "pyarrow", "numpy", "pandas", "dask")


def print_table(figures: dict[str, Any]) -> None:
    rg, fe, ratio = figures["reelgraph"], figures["feast"], figures["ratio_feast_over_reelgraph"]
    lines = [
        ("online, 1 entity, p50 ms", rg["online_one"]["p50_ms"], fe["online_one"]["p50_ms"],
         ratio["online_one_p50"]),
        ("online, 1 entity, p99 ms", rg["online_one"]["p99_ms"], fe["online_one"]["p99_ms"],
         ratio["online_one_p99"]),
        ("online, 1,000 entities, p50 ms", rg["online_batch"]["p50_ms"],
         fe["online_batch"]["p50_ms"], ratio["online_batch_p50"]),
        ("online, batches, entities/s", rg["online_batch"]["entities_per_s"],
         fe["online_batch"]["entities_per_s"], ratio["online_batch_throughput"]),
        ("point-in-time join, s", rg["point_in_time_s"], fe["point_in_time_s"],
         ratio["point_in_time"]),
        ("online load, s", rg["load"]["online_write_s"], fe["load"]["online_write_s"],
         fe["load"]["online_write_s"] / rg["load"]["online_write_s"]),
    ]
    print(f"\n{'':34} {'reelgraph':>12} {'Feast':>12} {'Feast/reelgraph':>16}")
    for label, ours, theirs, times in lines:
        print(f"{label:34} {ours:12,.3f} {theirs:12,.3f} {times:15.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--entities", type=int, default=100_000)
    parser.add_argument("--versions", type=int, default=5)
    parser.add_argument("--pit-rows", type=int, default=1_000_000)
    parser.add_argument("--single-reads", type=int, default=5_000)
    parser.add_argument("--batch-reads", type=int, default=50)
    parser.add_argument("--batch-size", type=int, default=1_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    try:
        import feast  # noqa: F401
    except ImportError:
        sys.exit("Feast is not installed: run .venv/bin/pip install feast (0.67.0 was used)")

    shutil.rmtree(WORK, ignore_errors=True)
    (WORK / "reelgraph").mkdir(parents=True)
    (WORK / "feast").mkdir(parents=True)
    started = time.perf_counter()
    data = Data(args.entities, args.versions, args.seed)
    print(f"data: {data.entities:,} users x {data.versions} versions "
          f"({len(SCALARS)} scalars + {DIM}-dim embedding)", flush=True)
    rg = Reelgraph(WORK / "reelgraph")
    rg_load = rg.load(data)
    print(f"reelgraph loaded: {rg_load}", flush=True)
    fe = Feast(WORK / "feast", data)
    fe_load = fe.load()
    print(f"Feast loaded: {fe_load}", flush=True)

    rng = np.random.default_rng(args.seed + 2)
    check_sample = rng.choice(data.entities, size=min(500, data.entities), replace=False)
    online_checked = check_online(data, rg, fe, [int(i) for i in check_sample])
    print(f"online answers agree ({online_checked:,} values)", flush=True)

    singles = [[data.keys[i]] for i in rng.integers(0, data.entities, args.single_reads)]
    batches = [[data.keys[i] for i in rng.integers(0, data.entities, args.batch_size)]
               for _ in range(args.batch_reads)]
    warm = max(1, len(singles) // 20)
    figures: dict[str, Any] = {"reelgraph": {"load": rg_load}, "feast": {"load": fe_load}}
    ones = timed_pairs([rg.read, fe.read], singles, warm)
    manys = timed_pairs([rg.read, fe.read], batches, 2, block=5)
    for label, one, many in zip(("reelgraph", "feast"), ones, manys, strict=True):
        figures[label]["online_one"] = online_figures(one, 1)
        figures[label]["online_batch"] = online_figures(many, args.batch_size)
        print(f"{label} online: 1 entity p50 {figures[label]['online_one']['p50_ms']:.3f} ms, "
              f"1,000 entities p50 {figures[label]['online_batch']['p50_ms']:.1f} ms", flush=True)

    entity, when = data.entity_table(args.pit_rows, args.seed)
    pit_keys = [data.keys[i] for i in entity]
    begun = time.perf_counter()
    ours = rg.point_in_time(pit_keys, when)
    figures["reelgraph"]["point_in_time_s"] = time.perf_counter() - begun
    print(f"reelgraph point-in-time: {figures['reelgraph']['point_in_time_s']:.1f} s",
          flush=True)
    begun = time.perf_counter()
    theirs = fe.point_in_time(pit_keys, when)
    figures["feast"]["point_in_time_s"] = time.perf_counter() - begun
    print(f"Feast point-in-time: {figures['feast']['point_in_time_s']:.1f} s", flush=True)
    pit_checked = check_point_in_time(data, entity, when, ours, theirs, 2_000)
    print(f"point-in-time answers agree: {pit_checked}", flush=True)
    rg.close()

    r, f = figures["reelgraph"], figures["feast"]
    figures["ratio_feast_over_reelgraph"] = {
        "online_one_p50": f["online_one"]["p50_ms"] / r["online_one"]["p50_ms"],
        "online_one_p99": f["online_one"]["p99_ms"] / r["online_one"]["p99_ms"],
        "online_batch_p50": f["online_batch"]["p50_ms"] / r["online_batch"]["p50_ms"],
        "online_batch_throughput": (r["online_batch"]["entities_per_s"]
                                    / f["online_batch"]["entities_per_s"]),
        "point_in_time": f["point_in_time_s"] / r["point_in_time_s"],
    }
    print_table(figures)
    result = {
        "benchmark": "feature_store",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "question": "reelgraph's feature reads next to Feast's, same values in both",
        "sizes": {"entities": data.entities, "versions": data.versions,
                  "feature_rows": data.entities * data.versions, "features": NAMES,
                  "embedding_dim": DIM, "pit_rows": args.pit_rows,
                  "single_reads": args.single_reads, "batch_reads": args.batch_reads,
                  "batch_size": args.batch_size, "seed": args.seed},
        "method": {
            "reelgraph_online": "open_online_store('sqlite:///...').read(4 features, keys)",
            "online_timing": "the systems take turns in blocks (50 single reads, 5 batches), "
                             "so machine load hits both alike while each runs warm",
            "feast_online": "FeatureStore.get_online_features(4 features).to_dict(), "
                            "SQLite online store",
            "reelgraph_point_in_time": "ParquetOfflineStore.point_in_time per feature "
                                       "(DuckDB ASOF JOIN over Parquet), into one Arrow table",
            "feast_point_in_time": "get_historical_features(entity_df, 4 features).to_df(), "
                                   "file (dask) offline store over one Parquet file",
        },
        "figures": figures,
        "checks": {"online_values_checked": online_checked, **pit_checked},
        "target": "online reads at least 10x Feast",
        "total_s": time.perf_counter() - started,
        "machine": machine(),
        "versions": versions(),
    }
    save(result, args.output)


if __name__ == "__main__":
    main()
