"""Memoized compute: once per key (across threads and processes), per-entity failures,
versions, the mesh, backfill, async requests, lineage."""

from __future__ import annotations

import multiprocessing
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from reelgraph.core.settings import Settings
from reelgraph.features import (
    EntityType,
    FeatureSet,
    FeatureStore,
    Scalar,
    UnknownFeature,
    Vector,
)
from reelgraph.flows import Workspace

TITLE = EntityType("title", int)


def feature_set(log: Path, fail: tuple[int, ...] = (), scale: float = 2.0) -> FeatureSet:
    """Two features; every call appends its keys to ``log`` (counts work across processes)."""
    features = FeatureSet("movielens")

    @features.feature(entity=TITLE, value=Scalar("string"), params={"log": str(log)})
    def title_text(keys: list[str], log: str) -> dict[str, Any]:
        with open(log, "a") as out:
            out.write("".join(f"title_text {k}\n" for k in keys))
        return {int(k): f"title {k}" for k in keys}  # type: ignore[misc]

    @features.feature(entity=TITLE, value=Vector(3), depends_on=["title_text"],
                      params={"log": str(log), "scale": scale, "fail": list(fail)}, vector=True)
    def embedding(keys: list[str], title_text: dict[str, str], log: str, scale: float,
                  fail: list[int]) -> dict[str, Any]:
        with open(log, "a") as out:
            out.write("".join(f"embedding {k}\n" for k in keys))
        if any(int(k) in fail for k in keys):
            raise ValueError("cannot embed this title")
        return {k: [len(title_text[k]) * scale, 1.0, float(k)] for k in keys}

    return features


def calls(log: Path) -> Counter[str]:
    return Counter(log.read_text().splitlines()) if log.exists() else Counter()


def open_store(home: Path, url: str, features: FeatureSet, batch_size: int = 4) -> FeatureStore:
    ws = Workspace.open(Settings.load(home=home, database_url=url))
    return FeatureStore(ws, [features], batch_size=batch_size)


@pytest.fixture
def log(tmp_path: Path) -> Path:
    return tmp_path / "calls.log"


@pytest.fixture
def store(tmp_path: Path, graph_url: str, log: Path) -> FeatureStore:
    return open_store(tmp_path, graph_url, feature_set(log))


def test_second_call_computes_nothing(store: FeatureStore, log: Path) -> None:
    first = store.get_or_compute("movielens/embedding", range(1, 21))
    assert sorted(first.computed, key=int) == [str(i) for i in range(1, 21)]
    assert first.values["3"].tolist() == [14.0, 1.0, 3.0]  # len("title 3") * 2
    work = sum(calls(log).values())
    assert work == 40  # 20 titles x (text + embedding), each once
    second = store.get_or_compute("movielens/embedding", range(1, 21))
    assert sum(calls(log).values()) == work  # memoized: no call at all
    assert second.computed == [] and second.reused == 20
    assert {k: v.tolist() for k, v in second.values.items()} == {
        k: v.tolist() for k, v in first.values.items()}


def test_only_missing_keys_are_computed(store: FeatureStore, log: Path) -> None:
    store.get_or_compute("movielens/embedding", [1, 2])
    report = store.get_or_compute("movielens/embedding", [1, 2, 3])
    assert report.computed == ["3"] and report.reused == 2
    assert calls(log)["embedding 3"] == 1 and calls(log)["embedding 1"] == 1


def test_failures_are_per_entity_and_a_retry_computes_only_them(
        tmp_path: Path, graph_url: str, log: Path) -> None:
    store = open_store(tmp_path, graph_url, feature_set(log, fail=(5,)))
    report = store.get_or_compute("movielens/embedding", range(1, 9))
    assert set(report.failed) == {"5"} and "cannot embed" in report.failed["5"]
    assert len(report.values) == 7  # the batch holding 5 was split: its others stored
    before = calls(log)
    retry = store.get_or_compute("movielens/embedding", range(1, 9))
    assert retry.reused == 7 and set(retry.failed) == {"5"}
    assert calls(log) - before == Counter({"embedding 5": 1})


def test_a_new_version_computes_anew_and_the_old_stays_readable(
        tmp_path: Path, graph_url: str, log: Path) -> None:
    old = open_store(tmp_path, graph_url, feature_set(log, scale=2.0))
    old.get_or_compute("movielens/embedding", [1])
    new = open_store(tmp_path, graph_url, feature_set(log, scale=3.0))
    old_def, new_def = old.definition("movielens/embedding"), new.definition(
        "movielens/embedding")
    assert old_def.version != new_def.version
    report = new.get_or_compute("movielens/embedding", [1])
    assert report.computed == ["1"] and report.values["1"][0] == 21.0
    assert calls(log)["title_text 1"] == 1  # the unchanged dependency stays memoized
    assert old.get(old_def, [1])["1"][0] == 14.0
    assert new.backfill("movielens/embedding").reused == 1  # known entities: just title 1


def test_lineage_links_the_feature_to_its_run_and_dependencies(store: FeatureStore) -> None:
    report = store.get_or_compute("movielens/embedding", [1])
    uri = store.definition("movielens/embedding").uri
    edges = {(e.kind, n.key.uri) for _, e, n in store.ws.graph.edges(uri)}
    text = store.definition("movielens/title_text").uri
    assert ("derived_from", text) in edges
    assert ("version_of", "rg://embedding/movielens/embedding") in edges
    runs = {n.key.uri for kind, n in ((e.kind, n) for _, e, n in
                                      store.ws.graph.edges(uri)) if kind == "produced_by"}
    assert any(report.run_ids[-1] in run for run in runs)
    run = store.ws.runs.get(report.run_ids[-1])
    assert run.status == "succeeded" and run.flow == "feature-embedding"


def test_threads_asking_for_the_same_keys_compute_them_once(
        store: FeatureStore, log: Path) -> None:
    results = []

    def ask() -> None:
        results.append(store.get_or_compute("movielens/title_text", range(1, 31)))

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 4 and all(len(r.values) == 30 for r in results)
    assert set(calls(log).values()) == {1} and len(calls(log)) == 30
    assert sum(len(r.computed) for r in results) == 30


def _other_process(home: str, url: str, log: str, out: Any) -> None:
    store = open_store(Path(home), url, feature_set(Path(log)), batch_size=2)
    out.put(len(store.get_or_compute("movielens/title_text", range(1, 41)).values))


@pytest.mark.slow  # separate processes, each importing the stack
def test_two_processes_compute_each_key_once(tmp_path: Path, graph_url: str, log: Path) -> None:
    # The schema first: two processes migrating one new database at once is another matter.
    open_store(tmp_path, graph_url, feature_set(log)).close()
    context = multiprocessing.get_context("spawn")
    out = context.Queue()
    others = [context.Process(target=_other_process, args=(str(tmp_path), graph_url, str(log),
                                                           out)) for _ in range(2)]
    for process in others:
        process.start()
    for process in others:
        process.join(timeout=300)
    assert [out.get(timeout=5) for _ in others] == [40, 40]
    assert len(calls(log)) == 40 and set(calls(log).values()) == {1}


def test_requests_are_queued_and_served_by_a_worker(store: FeatureStore, log: Path) -> None:
    assert sorted(store.request("movielens/title_text", [1, 2])) == ["1", "2"]
    assert store.request("movielens/title_text", [1, 2]) == []  # already queued
    assert store.get("movielens/title_text", [1, 2]) == {} and not calls(log)
    reports = store.serve_requests()
    assert [sorted(r.computed) for r in reports] == [["1", "2"]]
    assert store.get("movielens/title_text", [1, 2]) == {"1": "title 1", "2": "title 2"}
    assert store.serve_requests() == []
    assert store.request("movielens/title_text", [1, 2]) == []  # stored: nothing to queue


def test_unknown_feature_and_bad_keys_are_refused(store: FeatureStore) -> None:
    with pytest.raises(UnknownFeature, match="no feature"):
        store.get_or_compute("movielens/nope", [1])
    with pytest.raises(Exception, match="keys are integers"):
        store.get_or_compute("movielens/title_text", ["one"])
    assert store.offline.keys(store.definition("movielens/title_text").ref) == set()
