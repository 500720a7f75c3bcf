"""Global node identity: ``rg://KIND/NAMESPACE/NAME[@VERSION]``.

The URI is the one name that the Python API, REST API, CLI, UI and exports all use.
Names may contain ``/`` (e.g. ``rg://dataset/movielens/ml-latest-small/ratings.csv``);
the namespace may not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from reelgraph.core import InvalidInput

_SCHEME = "rg://"
_KIND = re.compile(r"^[a-z][a-z0-9_]*$")
_PART = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-]*$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-/:]*$")
_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-+]*$")


@dataclass(frozen=True, order=True)
class NodeKey:
    """A node's identity: kind, namespace, name and optional version (its ``rg://`` URI)."""
    kind: str
    namespace: str
    name: str
    version: str | None = None

    def __post_init__(self) -> None:
        for label, value, pattern in (
            ("kind", self.kind, _KIND),
            ("namespace", self.namespace, _PART),
            ("name", self.name, _NAME),
        ):
            if not isinstance(value, str) or not pattern.match(value):
                raise InvalidInput(
                    f"{label} {value!r} is not allowed in a node URI",
                    f"use letters, digits, '.', '_' or '-' for the {label}"
                    + (" (lower case, starting with a letter)" if label == "kind" else ""),
                )
        if self.version is not None and not _VERSION.match(self.version):
            raise InvalidInput(
                f"version {self.version!r} is not allowed in a node URI",
                "use letters, digits, '.', '_', '-' or '+' for the version",
            )

    @property
    def uri(self) -> str:
        tail = f"@{self.version}" if self.version is not None else ""
        return f"{_SCHEME}{self.kind}/{self.namespace}/{self.name}{tail}"

    def __str__(self) -> str:
        return self.uri

    @classmethod
    def parse(cls, uri: str) -> NodeKey:
        if not isinstance(uri, str) or not uri.startswith(_SCHEME):
            raise InvalidInput(
                f"{uri!r} is not a reelgraph URI",
                "write it as rg://KIND/NAMESPACE/NAME[@VERSION], "
                "e.g. rg://model/personalization/unified-ranker@3",
            )
        body = uri[len(_SCHEME) :]
        version: str | None = None
        if "@" in body:
            body, version = body.rsplit("@", 1)
        parts = body.split("/", 2)
        if len(parts) != 3 or not all(parts):
            raise InvalidInput(
                f"{uri!r} lacks a kind, namespace or name",
                "write it as rg://KIND/NAMESPACE/NAME[@VERSION]",
            )
        return cls(parts[0], parts[1], parts[2], version)
