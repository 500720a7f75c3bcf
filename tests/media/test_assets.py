"""MediaLibrary: media files as graph nodes, one per content checksum."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from media_samples import Sample

from reelgraph.core.errors import InvalidInput, NotFound
from reelgraph.graph import Graph
from reelgraph.media import MediaError, MediaLibrary


@pytest.fixture
def library(sqlite_url: str) -> Iterator[MediaLibrary]:
    graph = Graph.open(sqlite_url)
    try:
        yield MediaLibrary(graph)
    finally:
        graph.close()


def test_add_registers_a_node_named_by_content(library: MediaLibrary,
                                                samples: dict[str, Sample]) -> None:
    path = samples["mp4-h264"].path
    asset = library.add(path, "studio", owner="media-eng", tags=["synthetic"])
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert asset.uri == f"rg://media_asset/studio/{digest}"
    assert (asset.namespace, asset.checksum, asset.file_name) == ("studio", digest, "clip.mp4")
    assert asset.location == str(path.resolve())
    assert asset.probe.video is not None and asset.probe.video.codec == "h264"
    node = library.graph.show(asset.uri)
    assert node.kind == "media_asset" and node.owner == "media-eng"
    assert node.properties["video"]["frame_count"] == 60
    assert node.properties["checksum"] == digest


def test_adding_the_same_bytes_again_gives_the_same_asset(
        library: MediaLibrary, samples: dict[str, Sample], tmp_path: Path) -> None:
    path = samples["webm-vp9"].path
    first = library.add(path)
    assert library.add(path) == first
    assert len(library.graph.history(first.uri)) == 1  # nothing rewritten
    copy = tmp_path / "renamed.webm"
    shutil.copy(path, copy)
    moved = library.add(copy)
    assert moved.uri == first.uri and moved.location == str(copy)
    assert moved.file_name == "renamed.webm"
    assert [a.uri for a in library.list()] == [first.uri]


def test_get_by_uri_checksum_or_file(library: MediaLibrary,
                                     samples: dict[str, Sample]) -> None:
    path = samples["avi-mpeg4"].path
    asset = library.add(path)
    assert library.get(asset.uri) == asset
    assert library.get(asset.checksum) == asset
    assert library.get(path) == asset
    assert library.get(str(path)) == asset
    assert library.get(asset.checksum[:12]) == asset  # as `media list` prints it
    assert library.get(asset.checksum[:6].upper()) == asset
    other = library.add(samples["mkv-h264"].path)
    shared = next(n for n in range(6, 64) if asset.checksum[:n] != other.checksum[:n])
    if shared > 6:  # the two happen to share a prefix: it names neither
        with pytest.raises(InvalidInput, match="type more of the sha256"):
            library.get(asset.checksum[:shared - 1])
    with pytest.raises(NotFound, match="starts with"):
        library.get("f" * 63 if not asset.checksum.startswith("f" * 63) else "0" * 63)


def test_get_refuses_what_is_not_there(library: MediaLibrary, samples: dict[str, Sample],
                                       tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="register the file first"):
        library.get(samples["mkv-h264"].path)
    with pytest.raises(NotFound):
        library.get("0" * 64)
    with pytest.raises(NotFound, match="does not exist"):
        library.get(tmp_path / "missing.mp4")
    with pytest.raises(InvalidInput, match="not a media asset"):
        library.get("rg://dataset/studio/x")


def test_namespaces_are_separate(library: MediaLibrary, samples: dict[str, Sample]) -> None:
    a = library.add(samples["mp4-h264"].path, "studio")
    b = library.add(samples["mp4-h264"].path, "trailers")
    c = library.add(samples["mkv-h264"].path, "trailers")
    assert a.uri != b.uri and a.checksum == b.checksum
    assert [x.uri for x in library.list("trailers")] == sorted([b.uri, c.uri])
    assert len(library.list()) == 3
    assert library.get(a.checksum, "trailers") == b


def test_an_unreadable_file_is_refused_and_nothing_written(
        library: MediaLibrary, broken: dict[str, Path]) -> None:
    with pytest.raises(MediaError, match="truncated"):
        library.add(broken["truncated.webm"])
    assert library.list() == []


def test_a_workspace_library_uses_the_settings(tmp_path: Path,
                                               samples: dict[str, Sample]) -> None:
    from reelgraph.core import Settings
    from reelgraph.flows import Workspace

    with Workspace.open(Settings.load(home=str(tmp_path))) as ws:
        uri = MediaLibrary(ws.graph).add(samples["mp4-h264"].path).uri
    with Workspace.open(Settings.load(home=str(tmp_path))) as ws:
        assert MediaLibrary(ws.graph).get(uri).uri == uri
