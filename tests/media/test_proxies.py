"""ProxyCache: canonical frames decoded once, then read back from the artifact store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from media_samples import Sample, read_index

from reelgraph.artifacts import ArtifactStore
from reelgraph.graph import Graph
from reelgraph.media import MediaLibrary, ProxyCache, read_frames
from reelgraph.media import proxies as proxies_module


@pytest.fixture
def stores(tmp_path: Path) -> Iterator[tuple[Graph, ArtifactStore]]:
    graph = Graph.open(f"sqlite:///{tmp_path / 'graph.db'}")
    try:
        yield graph, ArtifactStore(tmp_path / "artifacts")
    finally:
        graph.close()


@pytest.fixture
def decodes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every decode the proxy cache starts, by location."""
    started: list[str] = []

    def counting(source: Any, **options: Any) -> Any:
        started.append(str(source))
        return read_frames(source, **options)

    monkeypatch.setattr(proxies_module, "read_frames", counting)
    return started


def test_the_second_reader_does_not_decode(stores: tuple[Graph, ArtifactStore],
                                           samples: dict[str, Sample],
                                           decodes: list[str]) -> None:
    graph, artifacts = stores
    asset = MediaLibrary(graph).add(samples["webm-vp9"].path)
    first = ProxyCache(graph, artifacts).frames(asset, fps=5, size=32)
    assert len(decodes) == 1
    assert len(first) == 12 and first.images.shape == (12, 32, 54, 3)
    assert [read_index(image) for image in first.images] == [k * 5 for k in range(12)]
    other = ProxyCache(graph, artifacts)  # another reader, same stores
    second = other.frames(asset, fps=5, size=32)
    assert len(decodes) == 1 and (other.hits, other.builds) == (1, 0)
    assert np.array_equal(first.images, second.images)
    assert np.array_equal(first.pts_ns, second.pts_ns)
    assert np.array_equal(first.sample_ns, second.sample_ns)


def test_keyed_by_content_and_parameters(stores: tuple[Graph, ArtifactStore],
                                         samples: dict[str, Sample], tmp_path: Path,
                                         decodes: list[str]) -> None:
    graph, artifacts = stores
    library, cache = MediaLibrary(graph), ProxyCache(graph, artifacts)
    asset = library.add(samples["mp4-h264"].path)
    cache.frames(asset, fps=5, size=32)
    cache.frames(asset, fps=5, size=48)
    cache.frames(asset, size=32)
    assert (cache.builds, cache.hits) == (3, 0)
    copy = tmp_path / "copy.mp4"
    copy.write_bytes(samples["mp4-h264"].path.read_bytes())
    cache.frames(library.add(copy), fps=5, size=32)  # same bytes elsewhere: same proxy
    assert (cache.builds, cache.hits, len(decodes)) == (3, 1, 3)


def test_recorded_in_the_graph(stores: tuple[Graph, ArtifactStore],
                               samples: dict[str, Sample]) -> None:
    graph, artifacts = stores
    asset = MediaLibrary(graph).add(samples["mkv-h264"].path)
    batch = ProxyCache(graph, artifacts).frames(asset, fps=2.5, size=32)
    node = graph.show(f"rg://artifact/studio/proxies/{asset.checksum}/fps-5-2_short-32/v1")
    assert node.properties["frames"] == len(batch) == 6
    assert artifacts.exists(node.properties["digest"])
    upstream = graph.lineage(node.uri).to_dict()
    assert asset.uri in {n["uri"] for n in upstream["nodes"]}


def test_a_lost_artifact_is_rebuilt(stores: tuple[Graph, ArtifactStore],
                                    samples: dict[str, Sample], tmp_path: Path) -> None:
    graph, artifacts = stores
    asset = MediaLibrary(graph).add(samples["mp4-h264"].path)
    cache = ProxyCache(graph, artifacts)
    cache.frames(asset, fps=1, size=32)
    for stored in (tmp_path / "artifacts" / "objects").rglob("*"):
        if stored.is_file():
            stored.unlink()
    assert len(cache.frames(asset, fps=1, size=32)) == 3
    assert cache.builds == 2
