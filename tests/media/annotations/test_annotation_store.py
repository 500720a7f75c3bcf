"""One contract suite for the annotation store, run on SQLite and on PostgreSQL."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from reelgraph.core import Database
from reelgraph.core.errors import Conflict, InvalidInput, NotFound
from reelgraph.features import FeatureRef
from reelgraph.flows import EventLog
from reelgraph.media.annotations import (
    EVENT_KIND,
    Annotation,
    AnnotationStore,
    Producer,
    Region,
)

S = 10**9  # nanoseconds per second
FILM = "rg://media_asset/films/heat"
OTHER = "sha256:0b5e7c"
SHOTS = Producer("shots/content-detector", "1.2", run_id="run-1")
LABELS = Producer("labels/clip", "0.3", model_version="clip-vit-b32")
EMBEDDING_URI = "rg://embedding/media/shot-clip@v1"


def label(start: float, end: float, name: str = "dog", confidence: float = 0.9,
          region: Region | None = None) -> Annotation:
    return Annotation("label", int(start * S), int(end * S), region=region, label=name,
                      confidence=confidence)


def ids(found: list[Annotation]) -> set[int]:
    return {a.id for a in found if a.id is not None}


def events(url: str) -> list[Any]:
    log = EventLog(Database.open(url))
    try:
        return [e for e in log.list(limit=1000) if e.kind == EVENT_KIND]
    finally:
        log.close()


class AnnotationStoreContract:
    @pytest.fixture
    def url(self) -> str:
        raise NotImplementedError

    @pytest.fixture
    def store(self, url: str) -> Iterator[AnnotationStore]:
        store = AnnotationStore(Database.open(url))
        yield store
        store.close()

    def test_every_type_round_trips(self, store: AnnotationStore) -> None:
        triangle = Region.from_polygon([(0.1, 0.2), (0.6, 0.25), (0.3, 0.9)])
        written = [
            Annotation("shot", 0, 4 * S, data={"index": 0, "score": 31.5}),
            Annotation("scene", 0, 60 * S, label="Opening", data={"index": 0, "shots": [0, 1]}),
            label(1, 2, "car", 0.25),
            Annotation("detection", S, S + 41_666_667, region=Region.box(0.1, 0.1, 0.4, 0.5),
                       label="face", confidence=1.0, data={"track_id": 7}),
            Annotation("embedding", 0, 4 * S, region=triangle,
                       data={"feature": EMBEDDING_URI, "key": "heat/0"},
                       vector=np.array([0.5, -1.0, 2.0], np.float32)),  # type: ignore[arg-type]
            Annotation("json", 3 * S, 5 * S, data={"ocr": "EXIT", "lines": [1, 2], "x": None}),
        ]
        result = store.put(SHOTS, FILM, written)
        assert (result.version, result.count, result.current) == (1, 6, True)
        assert result.types == ("detection", "embedding", "json", "label", "scene", "shot")
        got = store.query(FILM)
        assert [a.start_ns for a in got] == sorted(a.start_ns for a in written)
        by_type = {a.type: a for a in got}
        for original in written:
            back = by_type[original.type]
            assert (back.asset, back.producer, back.version) == (FILM, SHOTS.name, 1)
            assert back.schema_version == 1
            assert (back.start_ns, back.end_ns, back.label, back.confidence) == (
                original.start_ns, original.end_ns, original.label, original.confidence)
            assert back.region == original.region and dict(back.data) == dict(original.data)
        assert by_type["embedding"].vector == (0.5, -1.0, 2.0)
        assert by_type["embedding"].embedding_ref == (EMBEDDING_URI, "heat/0")
        assert by_type["embedding"].region is not None
        assert by_type["embedding"].region.polygon == triangle.polygon
        one = by_type["detection"]
        assert one.id is not None and store.get(one.id) == one
        with pytest.raises(NotFound, match="no annotation"):
            store.get(10**12)

    def test_invalid_annotations_write_nothing(self, store: AnnotationStore, url: str) -> None:
        good = label(0, 1)
        cases: list[tuple[Any, str]] = [
            (Annotation("label", 5 * S, 5 * S, label="x", confidence=0.5),
             "end_ns 5000000000 is not after start_ns"),
            (Annotation("label", 5, 3, label="x", confidence=0.5), "is not after start_ns"),
            (Annotation("label", -1, 3, label="x", confidence=0.5), "start_ns -1 is negative"),
            (Annotation("label", 0.5, 3, label="x", confidence=0.5), "must be an integer"),  # type: ignore[arg-type]
            (label(0, 1, confidence=1.5), r"confidence 1\.5 is outside \[0, 1\]"),
            (label(0, 1, confidence=float("nan")), "confidence nan is outside"),
            (label(0, 1, region=Region(0.1, 0.1, 1.2, 0.5)), r"x1 1\.2 is outside \[0, 1\]"),
            (label(0, 1, region=Region(-0.1, 0.1, 0.2, 0.5)), r"x0 -0\.1 is outside"),
            (label(0, 1, region=Region(0.5, 0.1, 0.2, 0.5)), "has no area"),
            (Annotation("widget", 0, 1), "unknown annotation type 'widget'"),
            (Annotation("detection", 0, 1, label="x", confidence=0.5),
             '"region" is a required property'),
            (Annotation("shot", 0, 1, label="x"), r"'label' was unexpected"),
            (Annotation("shot", 0, 1, data={"index": -2}), "-2 is less than the minimum"),
            (Annotation("embedding", 0, 1, data={"feature": EMBEDDING_URI}),
             '"key" is a required property'),
            (Annotation("label", 0, 1, label="x"), '"confidence" is a required property'),
            (Annotation("label", 0, 1, label="x", confidence=0.5, schema_version=7),
             "has no schema version 7"),
            (Annotation("json", 0, 1, data={"when": object()}), "data is not JSON"),
            (Annotation("embedding", 0, 1, data={"feature": EMBEDDING_URI, "key": "k"},
                        vector=[1.0, float("inf")]), "NaN or infinity"),  # type: ignore[arg-type]
            ("not an annotation", "is a str, not an Annotation"),
        ]
        for bad, problem in cases:
            with pytest.raises(InvalidInput, match=problem) as info:
                store.put(SHOTS, FILM, [good, good, bad])
            assert "annotation #2" in str(info.value) and "Fix: " in str(info.value)
        for producer, asset, problem in [(Producer(""), FILM, "producer name"),
                                         (Producer("a b "), FILM, "surrounding spaces"),
                                         (SHOTS, "", "asset id")]:
            with pytest.raises(InvalidInput, match=problem):
                store.put(producer, asset, [good])
        assert store.versions(FILM) == [] and store.query() == [] and events(url) == []

    def test_window_overlap_is_half_open(self, store: AnnotationStore) -> None:
        store.put(LABELS, FILM, [label(0, 10, "a"), label(10, 20, "b"), label(5, 15, "c")])
        names = lambda w: [a.label for a in store.query(FILM, window=w)]  # noqa: E731
        assert names((10 * S, 11 * S)) == ["c", "b"]  # [0, 10) ends where the window starts
        assert names((9 * S, 10 * S)) == ["a", "c"]  # [10, 20) starts where the window ends
        assert names((10 * S - 1, 10 * S)) == ["a", "c"]
        assert names((20 * S, 30 * S)) == []
        assert names((0, 1)) == ["a"]
        assert names((-5 * S, 0)) == []
        for bad in [(5, 5), (6, 5), (0.5, 2), "later"]:
            with pytest.raises(InvalidInput, match="window"):
                store.query(FILM, window=bad)  # type: ignore[arg-type]

    def test_window_queries_agree_with_a_scan_at_every_scale(self,
                                                             store: AnnotationStore) -> None:
        rng = random.Random(7)
        written = []
        for _ in range(600):  # frames, shots, scenes, whole-asset labels, bin-boundary cases
            length = int(10 ** rng.uniform(6, 13.5))
            start = rng.choice([rng.randrange(0, 10**13), (rng.randrange(1, 40) << 30) - 1,
                                (rng.randrange(1, 10) << 36) - length // 2])
            written.append(label(0, 1) if start < 0 else Annotation(
                "label", start, start + max(length, 1), label="x", confidence=0.5))
        store.put(LABELS, FILM, written)
        rows = store.query(FILM)
        windows = [(rng.randrange(0, 10**13), 0) for _ in range(150)]
        windows = [(s, s + int(10 ** rng.uniform(0, 12.5))) for s, _ in windows]
        windows += [(a.start_ns, a.start_ns + 1) for a in rows[:20]]
        windows += [(a.end_ns - 1, a.end_ns) for a in rows[:20]]
        windows += [(a.end_ns, a.end_ns + S) for a in rows[:20]]
        for start, end in windows:
            expected = {a.id for a in rows if a.start_ns < end and a.end_ns > start}
            assert ids(store.query(FILM, window=(start, end))) == expected, (start, end)

    def test_region_filter_intersects_boxes(self, store: AnnotationStore) -> None:
        store.put(LABELS, FILM, [
            label(0, 1, "left", region=Region.box(0.0, 0.0, 0.4, 1.0)),
            label(0, 1, "right", region=Region.box(0.6, 0.0, 1.0, 1.0)),
            label(0, 1, "triangle", region=Region.from_polygon([(0.4, 0.4), (0.6, 0.4),
                                                                (0.5, 0.6)])),
            label(0, 1, "everywhere"),  # no region: never matches a spatial filter
        ])
        names = lambda box: sorted(  # noqa: E731
            a.label or "" for a in store.query(FILM, region=box))
        assert names(Region.box(0.45, 0.0, 0.55, 0.3)) == []
        assert names((0.45, 0.45, 0.55, 0.55)) == ["triangle"]
        assert names((0.4, 0.0, 0.45, 0.1)) == ["left"]  # touching the edge counts
        assert names((0.0, 0.0, 1.0, 1.0)) == ["left", "right", "triangle"]
        assert names(Region.box(0.7, 0.7, 0.8, 0.8)) == ["right"]

    def test_label_type_and_confidence_filters(self, store: AnnotationStore) -> None:
        store.put(LABELS, FILM, [label(0, 1, "dog", 0.95), label(1, 2, "dog", 0.5),
                                 label(2, 3, "cat", 0.99)])
        store.put(LABELS, OTHER, [label(0, 1, "dog", 0.8)])
        store.put(SHOTS, FILM, [Annotation("shot", 0, 3 * S)])
        dogs = store.query(label="dog", min_confidence=0.8)
        assert [(a.asset, a.confidence) for a in dogs] == [(FILM, 0.95), (OTHER, 0.8)]
        assert len(store.query(FILM, label="dog")) == 2
        assert [a.type for a in store.query(FILM, types="shot")] == ["shot"]
        assert len(store.query(FILM, types=["shot", "label"])) == 4
        assert len(store.query(FILM, producer=SHOTS.name)) == 1
        assert len(store.query(FILM, limit=2)) == 2
        assert store.query(FILM, types="shots") == []
        with pytest.raises(InvalidInput, match="min_confidence"):
            store.query(FILM, min_confidence=2)

    def test_a_rerun_replaces_and_old_versions_stay_readable(self, store: AnnotationStore,
                                                             url: str) -> None:
        first = store.put(SHOTS, FILM, [Annotation("shot", 0, 2 * S),
                                        Annotation("shot", 2 * S, 5 * S)])
        store.put(LABELS, FILM, [label(0, 1)])
        rerun = Producer(SHOTS.name, "1.3", run_id="run-2")
        second = store.put(rerun, FILM, [Annotation("shot", 0, 5 * S)])
        assert (first.version, second.version) == (1, 2)
        current = store.query(FILM, types="shot")
        assert [(a.start_ns, a.end_ns, a.version) for a in current] == [(0, 5 * S, 2)]
        old = store.query(FILM, producer=SHOTS.name, version=1)
        assert [(a.end_ns, a.version) for a in old] == [(2 * S, 1), (5 * S, 1)]
        assert len(store.query(FILM, types="label")) == 1  # other producers are untouched
        history = store.versions(FILM, SHOTS.name)
        assert [(s.version, s.current, s.count) for s in history] == [(1, False, 2),
                                                                      (2, True, 1)]
        assert history[1].producer == rerun and history[0].producer == SHOTS
        assert [s.producer.name for s in store.versions(FILM)] == [LABELS.name, SHOTS.name,
                                                                    SHOTS.name]
        retracted = store.put(rerun, FILM, [])
        assert retracted.version == 3 and store.query(FILM, types="shot") == []
        with pytest.raises(NotFound, match=r"no version 9.*use one of \[1, 2, 3\]"):
            store.query(FILM, producer=SHOTS.name, version=9)
        with pytest.raises(InvalidInput, match="pass asset= and producer="):
            store.query(FILM, version=1)
        logged = events(url)
        assert [(e.payload["producer"], e.payload["version"], e.payload["replaced_version"])
                for e in reversed(logged)] == [(SHOTS.name, 1, None), (LABELS.name, 1, None),
                                               (SHOTS.name, 2, 1), (SHOTS.name, 3, 2)]

    def test_events_commit_with_the_rows_or_not_at_all(
            self, store: AnnotationStore, url: str, monkeypatch: pytest.MonkeyPatch) -> None:
        store.put(SHOTS, FILM, [Annotation("shot", 0, S)])
        [event] = events(url)
        assert (event.kind, event.uri, event.key) == (EVENT_KIND, FILM, "annotations:1")
        assert event.payload == {
            "asset": FILM, "producer": SHOTS.name, "version": 1, "set": 1,
            "replaced_version": None, "types": ["shot"], "count": 1, "producer_version": "1.2",
            "run_id": "run-1", "model_version": None}

        def fail(*_: Any, **__: Any) -> bool:
            raise RuntimeError("the event log is unavailable")

        monkeypatch.setattr(EventLog, "append_in", staticmethod(fail))
        with pytest.raises(RuntimeError):
            store.put(SHOTS, FILM, [Annotation("shot", 0, 2 * S)] * 100)
        assert [s.version for s in store.versions(FILM)] == [1]  # no new set, no rows
        assert [a.end_ns for a in store.query(FILM)] == [S]
        monkeypatch.undo()
        assert store.put(SHOTS, FILM, []).version == 2  # the number was not used up
        assert len(events(url)) == 2

    def test_readers_see_the_old_set_or_the_new_never_a_mix(
            self, store: AnnotationStore) -> None:
        sizes = {v: 40 + 17 * v for v in range(1, 13)}

        def annotations_of(version: int) -> list[Annotation]:
            return [label(i, i + 1.5, f"v{version}", 0.5) for i in range(sizes[version])]

        store.put(LABELS, FILM, annotations_of(1))
        done = threading.Event()
        seen: list[int] = []
        errors: list[BaseException] = []

        def read() -> None:
            try:
                while not done.is_set():
                    whole, window = store.query(FILM), store.query(FILM, window=(0, 30 * S))
                    for found, expected in ((whole, sizes), (window, {
                            v: min(n, 30) for v, n in sizes.items()})):
                        versions = {a.version for a in found}
                        assert len(versions) == 1, f"versions {versions} in one read"
                        version = versions.pop()
                        assert {a.label for a in found} == {f"v{version}"}
                        assert len(found) == expected[version], "a partly written set"  # type: ignore[index]
                    seen.append(version)  # type: ignore[arg-type]
            except BaseException as exc:  # reported by the main thread
                errors.append(exc)

        readers = [threading.Thread(target=read) for _ in range(2)]
        for reader in readers:
            reader.start()
        for version in range(2, 13):
            store.put(LABELS, FILM, annotations_of(version))
            time.sleep(0.01)
        done.set()
        for reader in readers:
            reader.join(timeout=60)
        assert not errors, errors[0]
        assert len(set(seen)) >= 2, f"the readers saw only versions {set(seen)}"
        assert len(store.query(FILM)) == sizes[12]

    def test_bulk_insert_of_ten_thousand(self, store: AnnotationStore) -> None:
        rng = random.Random(3)
        frame = 41_666_667
        written = []
        for i in range(10_000):
            start = rng.randrange(0, 7200) * S + rng.randrange(24) * frame
            x, y = rng.random() * 0.8, rng.random() * 0.8
            written.append(Annotation("detection", start, start + frame,
                                      region=Region.box(x, y, x + 0.2, y + 0.2),
                                      label=rng.choice(["face", "car", "dog"]),
                                      confidence=round(rng.random(), 3),
                                      data={"track_id": i % 50}))
        started = time.perf_counter()
        result = store.put(LABELS, FILM, written)
        elapsed = time.perf_counter() - started
        print(f"\nput 10,000 detections in {elapsed:.2f} s ({10_000 / elapsed:,.0f}/s)")
        assert result.count == 10_000
        rows = store.query(FILM)
        assert len(rows) == 10_000
        assert sorted((a.start_ns, a.label, a.confidence) for a in rows) == sorted(
            (a.start_ns, a.label, a.confidence) for a in written)
        window = (3600 * S, 3660 * S)
        expected = {a.id for a in rows if a.start_ns < window[1] and a.end_ns > window[0]}
        assert expected and ids(store.query(FILM, window=window)) == expected
        faces = {a.id for a in rows if a.label == "face" and (a.confidence or 0) >= 0.9}
        assert ids(store.query(FILM, label="face", min_confidence=0.9)) == faces

    def test_neighbours_by_inline_vectors(self, store: AnnotationStore) -> None:
        def emb(i: int, vector: list[float] | None, feature: str = EMBEDDING_URI
                ) -> Annotation:
            return Annotation("embedding", i * S, (i + 1) * S,
                              data={"feature": feature, "key": f"heat/{i}"}, vector=vector)  # type: ignore[arg-type]

        store.put(SHOTS, FILM, [emb(0, [1, 0, 0]), emb(1, [0.9, 0.1, 0]), emb(2, [0, 1, 0]),
                                emb(3, [-1, 0, 0]), emb(4, None),
                                emb(5, [1, 0, 0], "rg://embedding/media/other@v1"),
                                label(0, 1)])
        store.put(SHOTS, OTHER, [emb(0, [0.95, 0.05, 0])])
        source = next(a for a in store.query(FILM) if a.data.get("key") == "heat/0")
        assert source.id is not None
        near = store.neighbours(source.id, k=3)
        assert [(a.asset, a.data["key"]) for a, _ in near] == [
            (OTHER, "heat/0"), (FILM, "heat/1"), (FILM, "heat/2")]
        assert near[0][1] == pytest.approx(0.9986, abs=1e-3)
        assert [a.data["key"] for a, _ in store.neighbours(source, k=10, asset=FILM)] == [
            "heat/1", "heat/2", "heat/3"]
        without = next(a for a in store.query(FILM) if a.data.get("key") == "heat/4")
        with pytest.raises(InvalidInput, match=r"no inline vector.*Fix: pass index="):
            store.neighbours(without)
        with pytest.raises(InvalidInput, match="not an embedding reference"):
            store.neighbours(store.query(FILM, types="label")[0])

    def test_neighbours_through_the_feature_stores_vector_index(
            self, store: AnnotationStore, tmp_path: Path) -> None:
        from reelgraph.features.vector import FaissVectorIndex

        feature = FeatureRef("media", "shot-clip", "v1", "shot", {"kind": "vector", "dim": 3})
        index = FaissVectorIndex(tmp_path / "vectors")
        keys = ["heat/0", "heat/1", "heat/2", "heat/3"]
        index.upsert(feature, keys, np.array([[1, 0, 0], [0.8, 0.2, 0], [0, 1, 0], [0, 0, 1]],
                                             np.float32))
        store.put(SHOTS, FILM, [Annotation("embedding", i * S, (i + 1) * S,
                                           data={"feature": feature.uri, "key": key})
                                for i, key in enumerate(keys)])
        source = store.query(FILM)[0]
        near = store.neighbours(source, k=2, index=index, feature=feature)
        assert [a.data["key"] for a, _ in near] == ["heat/1", "heat/2"]
        assert near[0][1] > near[1][1]
        assert store.neighbours(source, k=2, index=index, feature=feature,
                                asset=OTHER) == []
        wrong = FeatureRef("media", "other", "v1", "shot", {"kind": "vector", "dim": 3})
        with pytest.raises(InvalidInput, match="references rg://embedding/media/shot-clip@v1"):
            store.neighbours(source, index=index, feature=wrong)
        with pytest.raises(InvalidInput, match="both the index and the feature"):
            store.neighbours(source, index=index)

    def test_registered_types_and_schema_versions(self, store: AnnotationStore) -> None:
        ocr_v1 = {"type": "object", "required": ["start_ns", "end_ns", "data"],
                  "properties": {"data": {"type": "object", "required": ["text"]}}}
        store.schemas.register("ocr", 1, ocr_v1)
        store.schemas.register("ocr", 1, ocr_v1)  # the same again: a no-op
        store.put(LABELS, FILM, [Annotation("ocr", 0, S, data={"text": "EXIT"})])
        ocr_v2 = {**ocr_v1, "properties": {"data": {
            "type": "object", "required": ["text", "lang"]}}}
        with pytest.raises(Conflict, match="register the change as version 2"):
            store.schemas.register("ocr", 1, ocr_v2)
        store.schemas.register("ocr", 2, ocr_v2)
        with pytest.raises(InvalidInput, match='"lang" is a required property'):
            store.put(LABELS, OTHER, [Annotation("ocr", 0, S, data={"text": "EXIT"})])
        store.put(LABELS, OTHER, [Annotation("ocr", 0, S, data={"text": "EXIT"},
                                             schema_version=1),
                                  Annotation("ocr", S, 2 * S, data={"text": "A", "lang": "en"})])
        assert [a.schema_version for a in store.query(types="ocr")] == [1, 1, 2]
        assert isinstance(store.schemas.schema("ocr"), dict)


class TestSqliteAnnotationStore(AnnotationStoreContract):
    @pytest.fixture
    def url(self, sqlite_url: str) -> str:
        return sqlite_url


@pytest.mark.postgres
class TestPostgresAnnotationStore(AnnotationStoreContract):
    @pytest.fixture
    def url(self, postgres_url: str) -> str:
        return postgres_url

