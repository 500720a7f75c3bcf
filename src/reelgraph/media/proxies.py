"""Proxies: an asset's canonical frames, decoded once and kept in the artifact store.

``ProxyCache.frames(asset, fps=2, size=224)`` returns the ``FrameBatch`` of
``read_frames(asset.location, fps=2, size=224)``. The first call decodes and stores it (an
uncompressed ``.npz`` of images and timestamps in the content-addressed artifact store)
and records it in the graph as ``rg://artifact/NAMESPACE/proxies/<sha256>/<spec>/v1`` with
a ``derived_from`` edge to the asset; later calls, in this process or any other using the
same stores, read those bytes back (checksum verified) and decode nothing. The key is the
asset's content checksum plus the sampling rate, the size and ``PROXY_VERSION`` (bumped
whenever what ``read_frames`` returns changes), never the file's path.

A proxy is held in memory whole, so keep them small (a 2-hour film at 2 fps and 224 pixels
is about 2 GB). Two processes building the same proxy at once both decode, then store
identical bytes and an identical node: the result is the same, once.
"""

from __future__ import annotations

from typing import Any

from reelgraph.artifacts import ArtifactStore
from reelgraph.graph import Graph, NodeKey
from reelgraph.media.assets import MediaAsset
from reelgraph.media.frames import FrameBatch, FrameSpec, Rate, read_frames, to_rate

PROXY_VERSION = 1
KIND = "artifact"


class ProxyCache:
    """Canonical frames of an asset, decoded once and kept in the artifact store."""

    def __init__(self, graph: Graph, artifacts: ArtifactStore) -> None:
        self.graph = graph
        self.artifacts = artifacts
        self.hits = 0  # reads answered from the store
        self.builds = 0  # reads that had to decode

    def close(self) -> None:
        """Nothing to close: the graph and the artifacts belong to the caller's workspace."""

    def __enter__(self) -> ProxyCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @staticmethod
    def key(asset: MediaAsset, spec: FrameSpec) -> NodeKey:
        return NodeKey(KIND, asset.namespace,
                       f"proxies/{asset.checksum}/{spec.key}/v{PROXY_VERSION}")

    def frames(self, asset: MediaAsset, fps: Rate | None = None, size: int | None = None
               ) -> FrameBatch:
        """The asset's canonical frames for (fps, size): stored ones, else decoded now."""
        spec = FrameSpec(to_rate(fps), size)
        key = self.key(asset, spec)
        node = self.graph.get(key)
        if node is not None and self.artifacts.exists(node.properties["digest"]):
            self.hits += 1
            return FrameBatch.from_bytes(self.artifacts.get_bytes(node.properties["digest"]))
        batch = FrameBatch.collect(read_frames(asset.location, fps=spec.fps, size=spec.size))
        data = batch.to_bytes()
        digest = self.artifacts.put_bytes(data)
        properties: dict[str, Any] = {
            "digest": digest, "format": "npz", "bytes": len(data), "frames": len(batch),
            "shape": list(batch.images.shape), "fps": None if spec.fps is None
            else str(spec.fps), "size": spec.size, "asset": asset.uri,
            "proxy_version": PROXY_VERSION}
        with self.graph.batch(author="media") as write:
            write.add(key, description=f"canonical frames of {asset.file_name} "
                                       f"({spec.key})", properties=properties)
            write.link(key, "derived_from", asset.uri)
        self.builds += 1
        return batch
