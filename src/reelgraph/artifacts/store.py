"""A content-addressed blob store: a local directory by default, any fsspec URL otherwise.

Objects live at ``ROOT/objects/<sha256[:2]>/<sha256>``; the same bytes are stored once.
Writes are atomic (a temporary name, then a rename), so a reader never sees half an object;
reads verify the checksum, so a damaged object is reported, never returned.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reelgraph.artifacts import formats
from reelgraph.core import (
    InvalidInput,
    MissingDependency,
    NotFound,
    ReelgraphError,
    collect_temporaries,
    write_atomic,
)

_COLLECTED: set[str] = set()  # local roots already swept of abandoned temporaries


class ArtifactError(ReelgraphError):
    """A value could not be stored, or a stored object is damaged."""


@dataclass(frozen=True)
class ArtifactRef:
    """Where a stored value is and how to read it back."""

    digest: str  # sha256 of the stored bytes
    format: str
    size: int
    type_name: str  # the Python type that was stored, for people

    def to_dict(self) -> dict[str, Any]:
        return {"digest": self.digest, "format": self.format, "size": self.size,
                "type": self.type_name}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ArtifactRef:
        return cls(data["digest"], data["format"], int(data["size"]), data.get("type", ""))

# fsspec back-ends that reelgraph declares as extras in pyproject.toml
_EXTRAS = {"s3": "reelgraph[s3]"}


class ArtifactStore:
    """Content-addressed values (tables, arrays, tensors, JSON, pickles) under a folder or any
    fsspec URL."""

    def __init__(self, url: str | Path) -> None:
        self.url = str(url)
        scheme = self.url.split("://", 1)[0] if "://" in self.url else ""
        self._local = scheme in ("", "file")
        if self._local:
            self._root = Path(self.url.removeprefix("file://")).expanduser()
            (self._root / "objects").mkdir(parents=True, exist_ok=True)
            if str(self._root) not in _COLLECTED:  # what killed writers left, once a process
                _COLLECTED.add(str(self._root))
                collect_temporaries(self._root / "objects")
        else:
            try:
                import fsspec
            except ModuleNotFoundError:
                raise MissingDependency("fsspec", f"the artifact store at {self.url}") from None
            try:
                self._fs, self._path = fsspec.core.url_to_fs(self.url)
            except ImportError:  # fsspec knows the scheme but lacks its back-end package
                extra = _EXTRAS.get(scheme, f"fsspec[{scheme}]")
                raise MissingDependency(extra, f"the artifact store at {self.url}") from None

    def _object(self, digest: str) -> str:
        return f"objects/{digest[:2]}/{digest}"

    # --- bytes ---------------------------------------------------------------------------

    def put_bytes(self, data: bytes) -> str:
        digest = hashlib.sha256(data).hexdigest()
        relative = self._object(digest)
        if self._local:
            target = self._root / relative
            if not target.exists():
                write_atomic(target, data)
        else:
            target_path = f"{self._path}/{relative}"
            if not self._fs.exists(target_path):
                temporary_path = f"{target_path}.tmp-{uuid.uuid4().hex}"
                self._fs.pipe_file(temporary_path, data)
                self._fs.mv(temporary_path, target_path)
        return digest

    def get_bytes(self, digest: str) -> bytes:
        relative = self._object(digest)
        try:
            if self._local:
                data = (self._root / relative).read_bytes()
            else:
                data = self._fs.cat_file(f"{self._path}/{relative}")
        except FileNotFoundError:
            raise NotFound(
                f"artifact {digest[:12]} is not in the store at {self.url}",
                "check the artifact store URL (REELGRAPH_ARTIFACT_URL) or re-run the step",
            ) from None
        if hashlib.sha256(data).hexdigest() != digest:
            raise ArtifactError(
                f"artifact {digest[:12]} at {self.url} is damaged (checksum mismatch)",
                "delete the object file and re-run the step that produced it",
            )
        return data

    def exists(self, digest: str) -> bool:
        relative = self._object(digest)
        if self._local:
            return (self._root / relative).exists()
        return bool(self._fs.exists(f"{self._path}/{relative}"))

    # --- values --------------------------------------------------------------------------

    def put(self, value: Any, label: str = "value") -> ArtifactRef:
        """Store a value in its first-class format; ``label`` names it in errors."""
        fmt = formats.format_of(value)
        try:
            data = formats.dumps(value, fmt)
        except Exception as exc:
            raise ArtifactError(
                f"{label} ({type(value).__name__}: {_short(value)}) cannot be stored as "
                f"{fmt}: {exc}",
                "return a table, array, tensor, plain JSON or a picklable value "
                "(no open files, locks, lambdas or connections)",
            ) from None
        digest = self.put_bytes(data)
        kind = type(value)
        return ArtifactRef(digest, fmt, len(data), f"{kind.__module__}.{kind.__qualname__}")

    def get(self, ref: ArtifactRef) -> Any:
        if ref.format not in formats.FORMATS:
            raise InvalidInput(f"unknown artifact format {ref.format!r}",
                               f"use one of {formats.FORMATS}")
        return formats.loads(self.get_bytes(ref.digest), ref.format)


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
