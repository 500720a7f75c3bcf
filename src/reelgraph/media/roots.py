"""Which media a network caller may name: only what lies under the configured media roots.

A root is a directory (``/data/video``) or a URL prefix (``s3://studio-raw/incoming/``);
``Settings.media_roots`` lists them. ``admit_media`` decides from the text alone plus the
resolution of symlinks, before anything is opened, so its refusal reads the same whether or
not a file exists there: a caller learns nothing about the server's files outside the roots.
Local paths are compared after resolving ``..`` and symlinks (a link inside a root that
points outside is refused); URLs must be plain (no ``..``, credentials, query or fragment) and
start with a root's scheme, bucket and folder.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

from reelgraph.core import InvalidInput


class OutsideMediaRoots(InvalidInput):
    """A path or URL that the server will not open for a network caller."""


def admit_media(source: str, roots: Sequence[str]) -> str:
    """The canonical location of ``source`` (an absolute path or URL) when it lies under one
    of ``roots``; ``OutsideMediaRoots`` otherwise."""
    if not roots:
        raise OutsideMediaRoots(
            f"{source!r} cannot be registered over HTTP: this server has no media roots",
            "set media_roots (REELGRAPH_MEDIA_ROOTS, comma-separated) to the folders and URL "
            "prefixes the API may register from, or register locally with `reelgraph media add`")
    text = source.strip()
    if "\x00" in text:
        raise OutsideMediaRoots(f"{source!r} contains a NUL character", "send a real path")
    if "://" in text and not text.startswith("file://"):
        where = _url(text, source)
        allowed = [_url(r, r) for r in roots if "://" in r and not r.startswith("file://")]
        if any(where.startswith(r.rstrip("/") + "/") for r in allowed):
            return where
    else:
        path = text.removeprefix("file://")
        if not PurePosixPath(path).is_absolute():
            raise OutsideMediaRoots(
                f"{source!r} is a relative path, and the server resolves paths on its own "
                "machine", "send an absolute path under one of the server's media roots")
        resolved = Path(os.path.realpath(path))
        for root in roots:
            if "://" not in root or root.startswith("file://"):
                base = Path(os.path.realpath(root.removeprefix("file://")))
                if resolved.is_relative_to(base):
                    return str(resolved)
    raise OutsideMediaRoots(f"{source!r} is not under this server's media roots",
                            f"send a path or URL under one of {list(roots)}")


def _url(text: str, source: str) -> str:
    parts = urlsplit(text)
    path = parts.path or "/"
    normal = posixpath.normpath(path)
    normal += "/" if path.endswith("/") and normal != "/" else ""
    plain = (parts.scheme and parts.hostname and not parts.username and not parts.password
             and not parts.query and not parts.fragment and normal == path)
    if not plain:
        raise OutsideMediaRoots(
            f"{source!r} is not a plain URL (it has '..', '//', credentials, a query or a "
            "fragment)", "send scheme://bucket/path with none of those")
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}{path}"
