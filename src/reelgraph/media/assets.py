"""Media assets: video and audio files as ``media_asset`` nodes of the lifecycle graph.

An asset's identity is its content: the node is ``rg://media_asset/NAMESPACE/<sha256>``, so
registering the same bytes again (from the same path or another one) gives the same asset,
never a second one. Its properties are the probe (see ``probe``) plus ``location`` (where
the bytes were last registered from; readers open that) and ``file_name``. Adding a file
whose asset exists hashes it but does not probe it again; if it comes from a new location
the node gets a new revision with that location, otherwise nothing is written.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from reelgraph.core import Conflict, InvalidInput, NotFound
from reelgraph.graph import Graph, Node, NodeKey, NodeSpec
from reelgraph.media.probe import MediaProbe, probe
from reelgraph.media.source import Source, checksum, location

KIND = "media_asset"  # a built-in node kind of the graph
DEFAULT_NAMESPACE = "studio"
MIN_PREFIX = 6
SHA256_PREFIX = re.compile(rf"^[0-9a-fA-F]{{{MIN_PREFIX},63}}$")  # as lists print it
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class MediaAsset:
    """A registered media file: its URI, checksum (identity), location and probe."""
    uri: str
    namespace: str
    checksum: str  # sha256 of the bytes: the asset's identity
    location: str  # path or URL the bytes were last registered from
    file_name: str
    probe: MediaProbe

    @property
    def key(self) -> NodeKey:
        return NodeKey.parse(self.uri)

    @classmethod
    def from_node(cls, node: Node) -> MediaAsset:
        props = node.properties
        return cls(node.uri, node.key.namespace, node.key.name, props["location"],
                   props.get("file_name", ""), MediaProbe.from_dict(props))


def check_asset_node(spec: NodeSpec, current: Node | None) -> None:
    """The media package's rules for a ``media_asset`` node, whoever writes it (the graph
    calls this on every write): the properties are a probe of the bytes its name hashes plus
    a ``location``, and an asset's probe never changes (only where the bytes live)."""
    props = spec.properties
    try:
        found = MediaProbe.from_dict(props)
        sound = (found.checksum == spec.key.name and _SHA256.match(spec.key.name) is not None
                 and isinstance(props["location"], str) and props["location"] != ""
                 and isinstance(props.get("file_name", ""), str))
    except (KeyError, TypeError, ValueError, ArithmeticError, AttributeError):
        sound = False
    if not sound:
        raise InvalidInput(
            f"{spec.uri} is not a probed media asset (a media_asset node needs the probe of "
            "the file whose sha256 is its name, and a location)",
            "register media through POST /api/v1/media, `reelgraph media add FILE` or "
            "MediaLibrary.add, which probe the file")
    if current is not None and _probe_of(current) not in (None, found):
        raise Conflict(f"{spec.uri} would change the probe of a registered asset, which its "
                       "bytes fix", "change only location, file_name or other properties; "
                       "register different bytes as a new asset")


def _probe_of(node: Node) -> MediaProbe | None:
    """The stored probe; None for a node written before these rules held it to one."""
    try:
        return MediaProbe.from_dict(node.properties)
    except (KeyError, TypeError, ValueError, ArithmeticError, AttributeError):
        return None


class MediaLibrary:
    """Registers and finds media assets in a graph."""

    def __init__(self, graph: Graph) -> None:
        self.graph = graph

    def close(self) -> None:
        """Nothing to close: the graph belongs to the caller's workspace."""

    def __enter__(self) -> MediaLibrary:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def add(self, source: Source, namespace: str = DEFAULT_NAMESPACE, *, owner: str = "",
            tags: Iterable[str] = (), author: str = "media") -> MediaAsset:
        """Register a file (idempotent by content); raises ``MediaError`` if unreadable."""
        where = location(source)
        hashed = checksum(where)
        key = NodeKey(KIND, namespace, hashed[0])
        existing = self.graph.get(key)
        if existing is not None:
            asset = MediaAsset.from_node(existing)
            if asset.location == where:
                return asset
            properties: dict[str, Any] = {**existing.properties, "location": where,
                                          "file_name": _file_name(where)}
            fields: dict[str, Any] = {"owner": existing.owner, "tags": existing.tags}
        else:
            properties = {**probe(where, hashed=hashed).to_dict(), "location": where,
                          "file_name": _file_name(where)}
            fields = {"owner": owner, "tags": tuple(tags)}
        node = self.graph.add(key, author=author, description=properties["file_name"],
                              properties=properties, **fields)
        return MediaAsset.from_node(node)

    def get(self, ref: str | Path, namespace: str = DEFAULT_NAMESPACE) -> MediaAsset:
        """An asset by URI (``rg://media_asset/...``), sha256, a unique prefix of its sha256
        (at least ``MIN_PREFIX`` hex digits, as lists print it), or a file whose bytes it
        has."""
        text = str(ref)
        if SHA256_PREFIX.match(text) and not Path(text).exists():
            return self._by_prefix(text, namespace)
        if text.startswith("rg://"):
            key = NodeKey.parse(text)
            if key.kind != KIND:
                raise InvalidInput(f"{text} is a {key.kind}, not a media asset",
                                   "pass an rg://media_asset/... URI, a sha256 or a file path")
        elif _SHA256.match(text):
            key = NodeKey(KIND, namespace, text)
        else:
            key = NodeKey(KIND, namespace, checksum(text)[0])
        node = self.graph.get(key)
        if node is None:
            raise NotFound(f"no media asset {key.uri} (from {text})",
                           "register the file first with MediaLibrary.add(path, namespace)")
        return MediaAsset.from_node(node)

    def _by_prefix(self, prefix: str, namespace: str) -> MediaAsset:
        found = [a for a in self.list(namespace) if a.checksum.startswith(prefix.lower())]
        if len(found) == 1:
            return found[0]
        if not found:
            raise NotFound(f"no media asset in {namespace} whose sha256 starts with {prefix}",
                           "list them with `reelgraph media list`")
        raise InvalidInput(f"{len(found)} media assets' sha256 start with {prefix}",
                           "type more of the sha256, or the whole of it")

    def list(self, namespace: str | None = None, limit: int = 100_000) -> list[MediaAsset]:
        """Assets in one namespace (every namespace when None), ordered by URI."""
        nodes = self.graph.find(kind=KIND, namespace=namespace, limit=limit)
        return [MediaAsset.from_node(n) for n in nodes]


def _file_name(where: str) -> str:
    return PurePosixPath(where.split("?", 1)[0]).name or where
