"""The standard media pipeline through the paved road: registering a file logs an event, a
worker pass runs the pipeline once per asset, and its shots, embeddings, annotations and
contact sheet land in the graph, the feature store and the annotation store."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import numpy as np
import pytest
from media_samples import Sample
from PIL import Image

from reelgraph.core import Settings
from reelgraph.features import FeatureStore
from reelgraph.flows import Worker, Workspace
from reelgraph.media.annotations import AnnotationStore
from reelgraph.media.pipeline import (
    PRODUCER,
    contact_sheet_key,
    ingest_flow,
    register,
    shot_features,
)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings.load(home=str(tmp_path / "home"), database_url="")


def test_a_registered_asset_is_ingested_once_by_the_worker(
        settings: Settings, samples: dict[str, Sample], tmp_path: Path) -> None:
    sample = samples["mp4-h264"]
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(sample.path.read_bytes()[:600])  # truncated: the header only
    with Workspace.open(settings) as ws:
        registered = register(ws, [sample.path, broken])
    assert len(registered.assets) == 1 and list(registered.failed) == [str(broken)]
    assert "broken.mp4" in registered.failed[str(broken)]
    asset = registered.assets[0]

    with Workspace.open(settings) as ws:
        worker = Worker(ws, [ingest_flow()], backoff_s=0)
        try:
            outcomes = worker.run_once()
            assert [o.delivery.status for o in outcomes] == ["succeeded"], outcomes
            copy = tmp_path / "same-bytes.mp4"
            shutil.copy(sample.path, copy)
            assert register(ws, [copy]).assets[0].uri == asset.uri  # one asset
            assert worker.run_once() == []  # and no second run
        finally:
            worker.close()

        annotations = AnnotationStore(ws)
        try:
            shots = annotations.query(asset.uri, types="shot", producer=PRODUCER)
            refs = annotations.query(asset.uri, types="embedding", producer=PRODUCER)
        finally:
            annotations.close()
        assert len(shots) == len(sample.cuts) + 1  # the synthetic cuts are found
        starts_ms = [a.start_ns // 1_000_000 for a in shots]
        assert starts_ms == [0, *(sample.pts_ms[c] for c in sample.cuts)]
        assert len(refs) == 2 * len(shots)

        store = FeatureStore(ws, [shot_features()])
        try:
            key = refs[0].data["key"]
            vector = store.get("media/shot_framing", [key])[key]
            assert vector.dtype == np.float32 and np.isclose(np.linalg.norm(vector), 1.0)
            index = store.replicator.vector
            assert index is not None
            hits = index.search(store.definition("media/shot_framing").ref, vector, 1)
            assert hits[0][0] == key  # a shot is its own nearest neighbour
        finally:
            store.close()

        sheet = ws.graph.get(contact_sheet_key(asset))
        assert sheet is not None
        png = Image.open(io.BytesIO(ws.artifacts.get_bytes(sheet.properties["digest"])))
        assert png.format == "PNG" and png.width > 0
        lineage = {n["uri"] for n in ws.graph.lineage(
            store.definition("media/shot_framing").uri).to_dict()["nodes"]}
        assert any(uri.startswith("rg://run/media/media-ingest/") for uri in lineage)


def test_assets_registered_before_any_worker_are_caught_up(
        settings: Settings, samples: dict[str, Sample]) -> None:
    from reelgraph.media import MediaLibrary

    with Workspace.open(settings) as ws:
        asset = MediaLibrary(ws.graph).add(samples["webm-vp9"].path)  # no pipeline yet
        worker = Worker(ws, [ingest_flow()], backoff_s=0)
        try:
            outcomes = worker.run_once()
        finally:
            worker.close()
    assert [(o.event.uri, o.delivery.status) for o in outcomes] == [(asset.uri, "succeeded")]
