"""Registering media over HTTP names files and URLs on the server's side (issue 16, items
1, 2, 4 and 6): only what lies under the configured media roots is opened, a refusal reads
the same whether a file exists or not, nothing connects anywhere else, a partly bad request
registers the good paths with a 2xx that lists the rest, frame reads are bounded, and a
generic graph write cannot plant a media asset that breaks the media listing."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from clips import write_clip
from fastapi.testclient import TestClient

from reelgraph.api import create_app
from reelgraph.core import Settings
from reelgraph.flows import Workspace

TOKEN = "media-token-1234"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
BASE = "/api/v1/media"


@pytest.fixture(scope="module")
def roots(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("media-roots")
    root = base / "root"
    root.mkdir()
    write_clip(root / "good.mp4")
    (root / "broken.mp4").write_bytes((root / "good.mp4").read_bytes()[:600])
    outside = base / "outside"
    outside.mkdir()
    write_clip(outside / "secret.mp4", shade=1)
    (root / "link.mp4").symlink_to(outside / "secret.mp4")  # inside, pointing out
    return {"root": root, "outside": outside}


@pytest.fixture
def client(tmp_path: Path, roots: dict[str, Path]) -> Iterator[TestClient]:
    settings = Settings.load(home=str(tmp_path / "home"), database_url="", api_token=TOKEN,
                             media_roots=[str(roots["root"])], max_read_seconds=30)
    with Workspace.open(settings) as ws, TestClient(create_app(settings, ws.graph)) as test:
        yield test


def register(client: TestClient, *paths: str) -> Any:
    return client.post(BASE, json={"paths": list(paths)}, headers=AUTH)


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A local port that records whether anything connected to it."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.settimeout(0.2)
    yield server
    server.close()


def connected(server: socket.socket) -> bool:
    try:
        server.accept()[0].close()
    except TimeoutError:
        return False
    return True


def test_only_paths_under_the_media_roots_are_opened(client: TestClient, roots: dict[str, Path],
                                                     listener: socket.socket) -> None:
    port = listener.getsockname()[1]
    hostile = [f"http://127.0.0.1:{port}/a.mp4", f"webhdfs://127.0.0.1:{port}/a.mp4",
               f"ftp://127.0.0.1:{port}/a.mp4", "hf://datasets/x/y.mp4",
               "file://../../../../etc/passwd", "/etc/passwd",
               f"{roots['root']}/../outside/secret.mp4", str(roots["root"] / "link.mp4"),
               str(roots["outside"] / "secret.mp4"), "relative.mp4"]
    for path in hostile:
        r = register(client, path)
        assert r.status_code == 422, (path, r.text)
        assert "media roots" in r.json()["problem"] or "relative" in r.json()["problem"]
    assert not connected(listener)
    assert client.get(BASE).json() == {"assets": []}


def test_a_refusal_does_not_say_whether_a_file_exists(client: TestClient) -> None:
    there, missing = register(client, "/etc/passwd"), register(client, "/etc/no-such-file")
    assert there.status_code == missing.status_code == 422
    assert (there.json()["problem"].replace("/etc/passwd", "P")
            == missing.json()["problem"].replace("/etc/no-such-file", "P"))


def test_no_media_roots_refuses_every_registration(tmp_path: Path, roots: dict[str, Path]
                                                   ) -> None:
    settings = Settings(home=tmp_path, api_token=TOKEN)
    with Workspace.open(settings) as ws, TestClient(create_app(settings, ws.graph)) as test:
        r = register(test, str(roots["root"] / "good.mp4"))
        assert r.status_code == 422 and "REELGRAPH_MEDIA_ROOTS" in r.json()["problem"]


def test_good_paths_register_beside_bad_ones_with_a_2xx(client: TestClient,
                                                        roots: dict[str, Path]) -> None:
    good, broken = str(roots["root"] / "good.mp4"), str(roots["root"] / "broken.mp4")
    r = register(client, "s3://elsewhere/x.mp4", good, broken, "/etc/passwd")
    assert r.status_code == 201, r.text
    body = r.json()
    assert [a["location"] for a in body["assets"]] == [good]
    assert list(body["failed"]) == ["s3://elsewhere/x.mp4", broken, "/etc/passwd"]
    assert len(client.get(BASE).json()["assets"]) == 1


def test_frame_reads_are_bounded(client: TestClient, roots: dict[str, Path],
                                 tmp_path: Path) -> None:
    sha = register(client, str(roots["root"] / "good.mp4")).json()["assets"][0]["sha256"]
    for params in ({"fps": 1000}, {"size": 4096}, {"limit": 10_000}, {"fps": "nan"}):
        r = client.get(f"{BASE}/{sha}/frames", params=params)
        assert r.status_code == 422, (params, r.text)
    assert client.get(f"{BASE}/{sha}/frame.png",
                      params={"at_ns": 0, "size": 4096}).status_code == 422
    settings = Settings.load(home=str(tmp_path / "home"), database_url="", api_token=TOKEN,
                             media_roots=[str(roots["root"])], max_read_seconds=1e-9)
    with Workspace.open(settings) as ws, TestClient(create_app(settings, ws.graph)) as hurried:
        out = hurried.get(f"{BASE}/{sha}/frames", params={"fps": 30, "limit": 1000}).json()
        assert out["truncated"] is True and len(out["frames"]) <= 1


def test_a_generic_write_cannot_plant_or_rewrite_a_media_asset(client: TestClient,
                                                               roots: dict[str, Path]) -> None:
    asset = register(client, str(roots["root"] / "good.mp4")).json()["assets"][0]
    planted = {"uri": f"rg://media_asset/studio/{'ab' * 32}", "properties": {"x": 1}}
    r = client.post("/api/v1/graph/nodes", json=planted, headers=AUTH)
    assert r.status_code == 422 and "not a probed media asset" in r.json()["problem"]
    node = client.get("/api/v1/graph/node", params={"uri": asset["uri"]}).json()["node"]
    rewritten = {**node["properties"], "duration_ns": 1}
    r = client.post("/api/v1/graph/nodes", headers=AUTH,
                    json={"uri": asset["uri"], "properties": rewritten})
    assert r.status_code == 409 and "probe" in r.json()["problem"]
    moved = {**node["properties"], "location": "/elsewhere/good.mp4"}
    assert client.post("/api/v1/graph/nodes", headers=AUTH,
                       json={"uri": asset["uri"], "properties": moved}).status_code == 200
    listing = client.get(BASE)
    assert listing.status_code == 200
    assert [a["duration_ns"] for a in listing.json()["assets"]] == [asset["duration_ns"]]
