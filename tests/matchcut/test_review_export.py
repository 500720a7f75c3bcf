"""The CLI and the REST API end to end on two synthetic titles: find (a broken file and an
audio-only title fail alone), list, review, export as OTIO / EDL / FCP XML, render MP4s,
and every kind of bad input (unknown pair, bad decision, a shot too short to preview)."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av
import pytest
from cli_harness import Cli
from fastapi.testclient import TestClient
from matchcut_samples import ControlledShot, write_audio_only

from reelgraph.api import create_app
from reelgraph.core import Settings
from reelgraph.flows import Workspace
from reelgraph.matchcut import ClipTooShort, PairStore, render

TOKEN = "matchcut-token-1234"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
BASE = "/api/v1/matchcut"
pytestmark = pytest.mark.slow  # one `find` over two synthetic titles, then fast checks


@pytest.fixture(scope="module")
def found(tmp_path_factory: pytest.TempPathFactory,
          controlled: tuple[list[Path], list[ControlledShot]]) -> tuple[Cli, str]:
    """A home where `reelgraph matchcut find` ran over two titles and two bad files."""
    folder = tmp_path_factory.mktemp("bad")
    broken = folder / "broken.mp4"
    broken.write_bytes(controlled[0][0].read_bytes()[:600])
    silent = write_audio_only(folder / "silent.m4a")
    home = tmp_path_factory.mktemp("home")
    cli = Cli(home, f"sqlite:///{home / 'meta.db'}", ("matchcut",))
    result = cli("find", str(controlled[0][0]), str(controlled[0][1]), str(broken),
                 str(silent), "--k", "5")
    assert result.exit_code == 1, result.output
    assert "broken.mp4" in result.stderr and "silent.m4a" in result.stderr
    assert "2 titles, 16 shots" in result.stdout  # the good titles were still processed
    return cli, result.stderr


def test_cli_lists_reviews_exports_and_renders(found: tuple[Cli, str], tmp_path: Path) -> None:
    cli, _ = found
    pairs = cli.json("list", "--kind", "frame", "--limit", "5")
    assert len(pairs) == 5 and all(p["kind"] == "frame" for p in pairs)
    assert [p["score"] for p in pairs] == sorted((p["score"] for p in pairs), reverse=True)
    assert "no match-cut pair 'nope'" in cli.fails("review", "nope", "accept")
    assert "unknown decision" in cli.fails("review", pairs[0]["id"], "maybe")
    assert "no accepted" in cli.fails("export", str(tmp_path / "cuts.otio"))
    for pair in pairs[:2]:
        cli.ok("review", pair["id"], "accept", "--reviewer", "ana")
    cli.ok("review", pairs[2]["id"], "reject", "--reviewer", "ana")
    listed = {p["id"]: p["decision"] for p in cli.json("list", "--kind", "frame")}
    assert [listed[p["id"]] for p in pairs[:3]] == ["accept", "accept", "reject"]

    for suffix in (".otio", ".edl", ".xml"):
        cli.ok("export", str(tmp_path / f"cuts{suffix}"))
        assert (tmp_path / f"cuts{suffix}").stat().st_size > 0
    timeline = json.loads((tmp_path / "cuts.otio").read_text())
    clips = timeline["tracks"]["children"][0]["children"]
    assert len(clips) == 4  # A then B for each accepted pair
    assert "error: cannot write a timeline" in cli.fails("export", str(tmp_path / "cuts.txt"))

    cli.ok("render", str(tmp_path / "cuts.mp4"))
    with av.open(str(tmp_path / "cuts.mp4")) as container:
        frames = sum(1 for _ in container.decode(video=0))
    assert 2 * 25 <= frames <= 2 * 2 * 25  # up to a second a side per pair, at 25 fps


def test_a_shot_too_short_fails_alone(found: tuple[Cli, str], tmp_path: Path) -> None:
    cli, _ = found
    settings = Settings.load(home=str(cli.home), database_url=cli.database_url)
    with Workspace.open(settings) as ws:
        good, other = PairStore(ws).list(limit=2)
        start = other.span_a[0]
        short = dataclasses.replace(other, span_a=(start, start + 50_000_000))
        report = render(ws, [good, short], tmp_path / "two.mp4")
    assert report.rendered == [good.id] and report.path is not None
    assert "too short" in report.failed[short.id]
    with pytest.raises(ClipTooShort):
        raise ClipTooShort(report.failed[short.id], "")


@pytest.fixture
def client(found: tuple[Cli, str]) -> Iterator[TestClient]:
    cli, _ = found
    settings = Settings.load(home=str(cli.home), database_url=cli.database_url,
                             api_token=TOKEN)
    with Workspace.open(settings) as ws, TestClient(create_app(settings, ws.graph)) as test:
        yield test


def _json(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def test_rest_api(client: TestClient) -> None:
    pairs = _json(client.get(BASE, params={"kind": "motion", "limit": 3}))["pairs"]
    assert len(pairs) == 3 and {p["kind"] for p in pairs} == {"motion"}
    one = _json(client.get(f"{BASE}/{pairs[0]['id']}"))
    assert one["id"] == pairs[0]["id"]
    missing = _json(client.get(f"{BASE}/nope"), 404)
    assert missing["error"] == "UnknownPair" and missing["fix"]
    assert client.post(f"{BASE}/{one['id']}/review",
                       json={"decision": "accept", "reviewer": "bo"}).status_code == 401
    _json(client.post(f"{BASE}/{one['id']}/review", json={"decision": "maybe",
                                                          "reviewer": "bo"}, headers=AUTH), 422)
    _json(client.post(f"{BASE}/{one['id']}/review", json={"decision": "accept",
                                                          "reviewer": "bo"}, headers=AUTH))
    assert _json(client.get(f"{BASE}/{one['id']}"))["decision"] == "accept"
    video = client.get(f"{BASE}/{one['id']}/preview.mp4")
    assert video.status_code == 200 and video.headers["content-type"] == "video/mp4"
    assert video.content[4:8] == b"ftyp"
    timeline = _json(client.get(f"{BASE}/timeline.otio"))
    assert timeline["OTIO_SCHEMA"].startswith("Timeline")
    again = _json(client.post(f"{BASE}/find", json={"assets": [p["asset_a"] for p in pairs]
                                                    + ["f" * 64], "k": 5}, headers=AUTH))
    assert again["features_computed"] == 0 and list(again["failed"]) == ["f" * 64]
    assert "/api/v1/matchcut" in client.get("/openapi.json").text
