"""``/api/v1/media`` over real stores on small synthetic clips (two shots, a cut at 0.8 s):
registering files (a write, per-path failures), the pipeline run by a worker pass, then the
asset list and detail, shots, annotations, frame timestamps, one frame and the contact sheet
as PNGs, and every kind of bad input. The register-and-read path runs on SQLite and
PostgreSQL; the ingested one on SQLite."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from clips import CUT, FRAMES, RATE, write_clip
from fastapi.testclient import TestClient
from PIL import Image

from reelgraph.api import create_app
from reelgraph.core import Database, Settings
from reelgraph.flows import Worker, Workspace
from reelgraph.media.annotations import Annotation, AnnotationStore, Producer
from reelgraph.media.pipeline import PRODUCER, ingest_flow

TOKEN = "media-token-1234"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
BASE = "/api/v1/media"
NS = 1_000_000_000


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("clips")
    good = write_clip(folder / "good.mp4")
    broken = folder / "broken.mp4"
    broken.write_bytes(good.read_bytes()[:600])  # cut short: the header only
    return {"good": good, "other": write_clip(folder / "other.mp4", shade=1),
            "broken": broken}


@contextmanager
def client_for(settings: Settings) -> Iterator[TestClient]:
    with Workspace.open(settings) as ws, TestClient(create_app(settings, ws.graph)) as test:
        yield test


@pytest.fixture(scope="module")
def ingested(tmp_path_factory: pytest.TempPathFactory, clips: dict[str, Path]
             ) -> Iterator[tuple[TestClient, str]]:
    """A server where good.mp4 was registered over HTTP and ingested by a worker pass."""
    settings = Settings.load(home=str(tmp_path_factory.mktemp("home")), database_url="",
                             api_token=TOKEN, media_roots=[str(clips["good"].parent)])
    with client_for(settings) as client:
        response = client.post(BASE, json={"paths": [str(clips["good"])]}, headers=AUTH)
        assert response.status_code == 201, response.text
        with Workspace.open(settings) as ws:
            worker = Worker(ws, [ingest_flow()])
            try:
                assert [o.delivery.status for o in worker.run_once()] == ["succeeded"]
            finally:
                worker.close()
        yield client, response.json()["assets"][0]["sha256"]


def get(client: TestClient, path: str, **params: Any) -> Any:
    response = client.get(f"{BASE}{path}", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def assert_error(response: Any, status: int, error: str, *words: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] == error and body["fix"]
    for word in words:
        assert word in body["problem"]


def test_register_reads_and_a_drawn_contact_sheet(graph_url: str, tmp_path: Path,
                                                  clips: dict[str, Path]) -> None:
    """On SQLite and PostgreSQL: no ingest run, the pipeline's shots written directly."""
    settings = Settings.load(home=str(tmp_path / "home"), database_url=graph_url,
                             api_token=TOKEN, media_roots=[str(clips["good"].parent)])
    with client_for(settings) as client:
        paths = [str(clips["other"]), str(clips["broken"]), "relative.mp4"]
        assert_error(client.post(BASE, json={"paths": paths}), 401, "Unauthorized")
        assert client.get(BASE).json() == {"assets": []}  # the refused write stored nothing
        response = client.post(BASE, json={"paths": paths}, headers=AUTH)
        assert response.status_code == 201, response.text
        body = response.json()
        [asset] = body["assets"]
        assert asset["file_name"] == "other.mp4" and asset["shots"] is None
        assert list(body["failed"]) == paths[1:]
        assert "cannot read" in body["failed"][str(clips["broken"])]
        assert "relative path" in body["failed"]["relative.mp4"]
        again = client.post(BASE, json={"paths": [str(clips["other"])]}, headers=AUTH).json()
        assert again["assets"][0]["uri"] == asset["uri"] and again["failed"] == {}
        assert_error(client.post(BASE, json={"paths": [str(clips["broken"])]}, headers=AUTH),
                     422, "InvalidInput", "none of the paths", "broken.mp4")
        assert_error(client.post(BASE, json={"paths": []}, headers=AUTH), 422, "InvalidInput")

        sha = asset["sha256"]
        assert_error(client.get(f"{BASE}/{sha}/shots"), 409, "NotIngested", "has no shots")
        assert_error(client.get(f"{BASE}/{sha}/contact-sheet"), 409, "NotIngested")
        store = AnnotationStore(Database.open(settings.metadata_url))
        try:
            store.put(Producer(PRODUCER, "1"), asset["uri"], [
                Annotation("shot", 0, NS, data={"index": 0}),
                Annotation("shot", NS, 1_600_000_000, data={"index": 1}),
                Annotation("label", 0, NS // 2, label="red", confidence=0.9)])
        finally:
            store.close()
        assert get(client, "")["assets"][0]["shots"] == 2
        assert [s["duration_ns"] for s in get(client, f"/{sha}/shots")["shots"]] == [
            NS, 600_000_000]
        labels = get(client, f"/{sha}/annotations", label="red", min_confidence=0.5)
        assert [a["type"] for a in labels["annotations"]] == ["label"]
        sheet = client.get(f"{BASE}/{sha}/contact-sheet")
        assert sheet.status_code == 200 and sheet.headers["content-type"] == "image/png"
        assert sheet.headers["x-contact-sheet"] == "drawn"
        assert Image.open(io.BytesIO(sheet.content)).format == "PNG"


def test_asset_list_and_detail(ingested: tuple[TestClient, str]) -> None:
    client, sha = ingested
    [asset] = get(client, "")["assets"]
    assert asset["sha256"] == sha and asset["shots"] == 2
    assert (asset["width"], asset["height"], asset["fps"], asset["codec"]) == (
        160, 96, 25.0, "h264")
    assert get(client, "", namespace="other") == {"assets": []}
    detail = get(client, f"/{sha}")
    assert detail["probe"]["video"]["frame_count"] == FRAMES
    assert [s["producer"]["name"] for s in detail["annotation_sets"]] == [PRODUCER]
    assert [f["shots"] for f in detail["features"]] == [2, 2]
    assert detail["contact_sheet"].endswith(f"/contact-sheets/{sha}")
    assert get(client, "/asset", uri=asset["uri"]) == detail
    assert get(client, f"/{sha.upper()}")["uri"] == asset["uri"]


def test_shots_and_annotations(ingested: tuple[TestClient, str]) -> None:
    client, sha = ingested
    shots = get(client, f"/{sha}/shots")
    assert shots["producer"] == PRODUCER and shots["run_id"]
    assert [(s["index"], s["start_ns"]) for s in shots["shots"]] == [(0, 0),
                                                                     (1, CUT * NS // RATE)]
    every = get(client, f"/{sha}/annotations")["annotations"]
    assert sorted(a["type"] for a in every) == ["embedding"] * 4 + ["shot"] * 2
    late = get(client, f"/{sha}/annotations", type="shot", start_ns=NS)["annotations"]
    assert [a["data"]["index"] for a in late] == [1]
    both = get(client, f"/{sha}/annotations", type=["shot", "embedding"], end_ns=NS // 2,
               producer=PRODUCER, version=1)["annotations"]
    assert len(both) == 3 and {a["start_ns"] for a in both} == {0}
    assert len(get(client, f"/{sha}/annotations", limit=1)["annotations"]) == 1


def test_frames_and_one_frame_as_png(ingested: tuple[TestClient, str]) -> None:
    client, sha = ingested
    listed = get(client, f"/{sha}/frames", fps=5, size=48, start_ns=NS // 2, end_ns=3 * NS // 2)
    assert [f["sample_ns"] for f in listed["frames"]] == [NS // 2 + i * NS // 5
                                                          for i in range(5)]
    assert (listed["width"], listed["height"], listed["truncated"]) == (80, 48, False)
    assert get(client, f"/{sha}/frames", limit=3)["truncated"] is True
    frame = client.get(f"{BASE}/{sha}/frame.png", params={"at_ns": NS, "size": 48})
    assert frame.status_code == 200 and frame.headers["content-type"] == "image/png"
    assert int(frame.headers["x-frame-pts-ns"]) == NS  # frame 25 is on screen at 1 s
    picture = Image.open(io.BytesIO(frame.content)).convert("RGB")
    assert picture.size == (80, 48)
    assert picture.getpixel((40, 40))[2] > 80  # type: ignore[index]  # the second shot's blue
    native = client.get(f"{BASE}/{sha}/frame.png", params={"at_ns": 0})
    assert Image.open(io.BytesIO(native.content)).size == (160, 96)
    sheet = client.get(f"{BASE}/{sha}/contact-sheet")
    assert sheet.headers["x-contact-sheet"] == "stored"
    assert Image.open(io.BytesIO(sheet.content)).format == "PNG"


def test_bad_input_is_refused_with_a_fix(ingested: tuple[TestClient, str]) -> None:
    client, sha = ingested
    assert_error(client.get(f"{BASE}/{'0' * 64}"), 404, "NotFound", "no media asset")
    assert_error(client.get(f"{BASE}/{sha}", params={"namespace": "other"}), 404, "NotFound")
    assert_error(client.get(f"{BASE}/good.mp4"), 422, "InvalidInput", "not a media asset")
    assert_error(client.get(f"{BASE}/asset", params={"uri": "rg://model/x/y"}), 422,
                 "InvalidInput", "not a media asset")
    assert_error(client.get(f"{BASE}/asset", params={"uri": sha}), 422, "InvalidInput")
    assert_error(client.get(f"{BASE}/{sha}/annotations", params={"start_ns": 5, "end_ns": 2}),
                 422, "InvalidInput", "is empty")
    assert_error(client.get(f"{BASE}/{sha}/annotations", params={"version": 1}), 422,
                 "InvalidInput", "no producer")
    assert_error(client.get(f"{BASE}/{sha}/annotations", params={"min_confidence": "x"}), 422,
                 "InvalidInput", "min_confidence")
    for fps in (0, 5000):
        assert_error(client.get(f"{BASE}/{sha}/frames", params={"fps": fps}), 422,
                     "InvalidInput", "frame rate")
    assert_error(client.get(f"{BASE}/{sha}/frames", params={"size": 1}), 422,
                 "InvalidInput", "frame size")
    assert_error(client.get(f"{BASE}/{sha}/frames", params={"start_ns": -1}), 422,
                 "InvalidInput", "before the asset")
    assert_error(client.get(f"{BASE}/{sha}/frames", params={"limit": 0}), 422, "InvalidInput")
    assert_error(client.get(f"{BASE}/{sha}/frame.png", params={"at_ns": 10 * NS}), 422,
                 "InvalidInput", "outside good.mp4")
    assert_error(client.get(f"{BASE}/{sha}/frame.png"), 422, "InvalidInput", "at_ns")


def test_closed_reads_need_the_token(tmp_path: Path) -> None:
    settings = Settings.load(home=str(tmp_path / "home"), database_url="", api_token=TOKEN,
                             open_reads=False)
    with client_for(settings) as client:
        assert_error(client.get(BASE), 401, "Unauthorized")
        assert client.get(BASE, headers=AUTH).json() == {"assets": []}


def test_openapi_documents_the_media_paths(ingested: tuple[TestClient, str]) -> None:
    client, _ = ingested
    spec = client.get("/openapi.json").json()
    paths = spec["paths"]
    for path in ("", "/asset", "/{asset}", "/{asset}/shots", "/{asset}/annotations",
                 "/{asset}/contact-sheet", "/{asset}/frames", "/{asset}/frame.png"):
        assert f"{BASE}{path}" in paths
    assert "image/png" in paths[f"{BASE}/{{asset}}/frame.png"]["get"]["responses"]["200"][
        "content"]
    post = paths[BASE]["post"]
    assert post["summary"] and "201" in post["responses"]
