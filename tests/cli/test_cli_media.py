"""``reelgraph media add|list|show|frames|shots|annotations|sheet`` and ``reelgraph worker
--media`` on small synthetic clips (two shots, a cut at 0.8 s) and one real clip: register
and ingest, read back what the pipeline stored, write frames and contact sheets; errors are
one red line and exit code 1."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from cli_harness import Cli
from clips import CUT, FRAMES, RATE, write_clip
from PIL import Image

from reelgraph.core import Database, Settings
from reelgraph.media.annotations import Annotation, AnnotationStore, Producer
from reelgraph.media.pipeline import PRODUCER


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("clips")
    good = write_clip(folder / "good.mp4")
    broken = folder / "broken.mp4"
    broken.write_bytes(good.read_bytes()[:600])  # cut short: the header only
    return {"good": good, "other": write_clip(folder / "other.mp4", cut=25, shade=1),
            "broken": broken}


def make_cli(home: Path) -> Cli:
    return Cli(home, f"sqlite:///{home / 'reelgraph.db'}")


@pytest.fixture(scope="module")
def ingested(tmp_path_factory: pytest.TempPathFactory, clips: dict[str, Path]
             ) -> tuple[Cli, Any]:
    """A home where ``good.mp4`` was added and ingested next to a broken file."""
    cli = make_cli(tmp_path_factory.mktemp("home"))
    return cli, cli("media", "add", str(clips["good"]), str(clips["broken"]), "--ingest")


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    return make_cli(tmp_path / "home")


def test_add_ingests_the_good_file_and_reports_the_broken_one(
        ingested: tuple[Cli, Any], clips: dict[str, Path]) -> None:
    _, result = ingested
    assert result.exit_code == 1, result.output  # one file failed ...
    error = result.stderr.strip().splitlines()
    assert len(error) == 1 and "1 of 2 files could not be registered" in error[0]
    assert f"failed: {clips['broken']}: " in result.stdout and "broken.mp4" in result.stdout
    # ... and the other was registered and ingested all the same
    assert "good.mp4" in result.stdout and "succeeded" in result.stdout


def test_list_and_show(ingested: tuple[Cli, Any], clips: dict[str, Path]) -> None:
    cli, _ = ingested
    [asset] = cli.json("media", "list")
    assert asset["file_name"] == "good.mp4" and asset["shots"] == 2
    assert (asset["width"], asset["height"], asset["fps"], asset["codec"]) == (
        160, 96, 25.0, "h264")
    assert asset["duration_ns"] == FRAMES * 1_000_000_000 // RATE
    table = cli.ok("media", "list").stdout
    assert asset["sha256"][:12] in table and "160x96" in table and "h264" in table
    assert cli.json("media", "list", "--namespace", "other") == []

    shown = cli.json("media", "show", asset["sha256"])
    assert shown["uri"] == asset["uri"] and shown["probe"]["video"]["frame_count"] == FRAMES
    [pipeline] = shown["annotation_sets"]
    assert pipeline["producer"]["name"] == PRODUCER and pipeline["current"]
    assert sorted(pipeline["types"]) == ["embedding", "shot"]
    assert [f["shots"] for f in shown["features"]] == [2, 2]
    assert {f["feature"].split("@")[0] for f in shown["features"]} == {
        "rg://embedding/media/shot_framing", "rg://embedding/media/shot_motion"}
    assert shown["contact_sheet"].startswith("rg://artifact/studio/contact-sheets/")
    assert cli.json("media", "show", str(clips["good"]))["uri"] == asset["uri"]  # by file
    assert cli.json("media", "show", asset["uri"])["sha256"] == asset["sha256"]  # by URI
    text = cli.ok("media", "show", asset["uri"]).stdout
    assert "annotation sets" in text and "h264 160x96 25.000 fps" in text


def test_shots_and_annotations(ingested: tuple[Cli, Any], clips: dict[str, Path]) -> None:
    cli, _ = ingested
    good = str(clips["good"])
    shots = cli.json("media", "shots", good)
    assert shots["producer"] == PRODUCER and shots["version"] == 1
    assert [(s["index"], s["start_ns"]) for s in shots["shots"]] == [
        (0, 0), (1, CUT * 1_000_000_000 // RATE)]
    assert "00:00.800" in cli.ok("media", "shots", good).stdout

    everything = cli.json("media", "annotations", good)["annotations"]
    assert sorted(a["type"] for a in everything) == ["embedding"] * 4 + ["shot"] * 2
    late = cli.json("media", "annotations", good, "--type", "shot", "--start", "1.0")
    assert [a["data"]["index"] for a in late["annotations"]] == [1]
    early = cli.json("media", "annotations", good, "--end", "0.5", "--type", "embedding",
                     "--producer", PRODUCER, "--version", "1")
    assert len(early["annotations"]) == 2 and all(
        a["start_ns"] == 0 for a in early["annotations"])
    assert cli.json("media", "annotations", good, "--limit", "1")["annotations"][0]["id"]
    text = cli.ok("media", "annotations", good, "--type", "shot").stdout
    assert "2 annotation(s)" in text and '"method": "content"' in text
    assert "no annotations" in cli.ok("media", "annotations", good, "--label", "dog").stdout


def test_sheet_writes_the_stored_contact_sheet(ingested: tuple[Cli, Any],
                                               clips: dict[str, Path], tmp_path: Path) -> None:
    cli, _ = ingested
    out = tmp_path / "sheets" / "good.png"
    assert "the pipeline's stored sheet" in cli.ok("media", "sheet", str(clips["good"]),
                                                   "-o", str(out)).stdout
    with Image.open(out) as image:
        assert image.format == "PNG" and image.width > 2 * 160  # two thumbnails side by side


def test_frames_to_a_folder(ingested: tuple[Cli, Any], clips: dict[str, Path],
                            tmp_path: Path) -> None:
    cli, _ = ingested
    good = str(clips["good"])
    listed = cli.json("media", "frames", good, "--fps", "5", "--size", "48", "--start", "0.5",
                      "--end", "1.5")
    assert [f["sample_ns"] for f in listed["frames"]] == [
        500_000_000 + i * 200_000_000 for i in range(5)]
    assert all(f["pts_ns"] <= f["sample_ns"] for f in listed["frames"])
    assert (listed["frames"][0]["width"], listed["frames"][0]["height"]) == (80, 48)

    folder = tmp_path / "frames"
    text = cli.ok("media", "frames", good, "--fps", "2", "--size", "48", "-o",
                  str(folder)).stdout
    names = sorted(p.name for p in folder.iterdir())
    assert names == ["frame-000000.000s.png", "frame-000000.500s.png",
                     "frame-000001.000s.png", "frame-000001.500s.png"]
    assert "4 frames of good.mp4 written to" in text
    with Image.open(folder / names[0]) as image:
        assert image.size == (80, 48)
    limited = cli.json("media", "frames", good, "--limit", "2")
    assert len(limited["frames"]) == 2 and limited["size"] == 224


def test_shots_before_ingest_then_a_drawn_sheet(cli: Cli, clips: dict[str, Path],
                                               tmp_path: Path) -> None:
    added = cli.ok("media", "add", str(clips["other"]))
    assert "not ingested" in added.stdout and "reelgraph worker --media" in added.stdout
    line = cli.fails("media", "shots", str(clips["other"]))
    assert "has no shots" in line and "reelgraph media add FILE --ingest" in line
    assert "reelgraph worker --media" in line
    assert "has no shots" in cli.fails("media", "sheet", str(clips["other"]),
                                       "-o", str(tmp_path / "x.png"))
    # shots written by the pipeline's producer, but no stored sheet: one is drawn
    [asset] = cli.json("media", "list")
    store = AnnotationStore(Database.open(Settings.load(home=cli.home).metadata_url))
    try:
        store.put(Producer(PRODUCER, "1"), asset["uri"], [
            Annotation("shot", 0, 1_000_000_000, data={"index": 0}),
            Annotation("shot", 1_000_000_000, 1_600_000_000, data={"index": 1})])
    finally:
        store.close()
    assert cli.json("media", "list")[0]["shots"] == 2
    out = tmp_path / "drawn.png"
    assert "drawn from the stored shots" in cli.ok("media", "sheet", asset["sha256"],
                                                   "-o", str(out)).stdout
    with Image.open(out) as image:
        assert image.format == "PNG"


def test_worker_media_ingests_registered_assets(cli: Cli, clips: dict[str, Path],
                                                monkeypatch: pytest.MonkeyPatch,
                                                tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no ./flows here: only the media pipeline is watched
    cli.ok("media", "add", str(clips["good"]))
    out = cli.ok("worker", "--media", "--once").stdout
    assert "watching media/media-ingest" in out and "succeeded" in out
    assert len(cli.json("media", "shots", str(clips["good"]))["shots"]) == 2
    assert "succeeded" not in cli.ok("worker", "--media", "--once").stdout  # once per asset
    assert "no flow file or folder" in cli.fails("worker", "--once")


def test_errors_are_one_red_line(ingested: tuple[Cli, Any], clips: dict[str, Path],
                                 tmp_path: Path) -> None:
    cli, _ = ingested
    good = str(clips["good"])
    assert "no media asset" in cli.fails("media", "show", "0" * 64)
    assert "reelgraph media add" in cli.fails("media", "shots", str(clips["other"]))
    assert "nor a file" in cli.fails("media", "show", "missing.mp4")
    assert "not a media asset" in cli.fails("media", "show", "rg://model/x/y")
    assert "frame rate" in cli.fails("media", "frames", good, "--fps", "0")
    assert "frame size" in cli.fails("media", "frames", good, "--size", "100000")
    assert "--end 1 is not after --start 2" in cli.fails("media", "frames", good,
                                                         "--start", "2", "--end", "1")
    assert "--start -1" in cli.fails("media", "annotations", good, "--start", "-1")
    assert "no producer" in cli.fails("media", "annotations", good, "--version", "1")
    assert "min_confidence" in cli.fails("media", "annotations", good,
                                         "--min-confidence", "2")
    assert "PNG" in cli.fails("media", "sheet", good, "-o", str(tmp_path / "sheet.jpg"))
    assert "could not be registered" in cli.fails("media", "add", str(clips["broken"]))


@pytest.mark.slow  # decodes, segments and embeds a real clip end to end
def test_a_real_clip(cli: Cli, shared_data: Path, tmp_path: Path) -> None:
    clip = shared_data / "video" / "big_buck_bunny_432_433.webm"
    if not clip.is_file():
        pytest.skip(f"{clip} is not there")
    out = cli.ok("media", "add", str(clip), "--ingest").stdout
    assert "succeeded" in out and "1280x720" in out
    shots = cli.json("media", "shots", str(clip))["shots"]
    assert len(shots) == 1 and shots[0]["start_ns"] == 0  # one shot, per the data README
    [asset] = cli.json("media", "list")
    assert asset["codec"] == "vp8" and asset["fps"] == 24.0
    sheet = tmp_path / "bunny.png"
    cli.ok("media", "sheet", str(clip), "-o", str(sheet))
    with Image.open(sheet) as image:
        assert image.format == "PNG"
