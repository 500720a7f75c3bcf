"""Where media bytes come from: a local path or any fsspec URL, opened with PyAV.

``open_media`` is the one place that turns PyAV/FFmpeg failures at open time into
``MediaError`` naming the file; ``checksum`` hashes the bytes (sha256) in 1 MiB chunks, so
neither reads a whole file into memory. PyAV is imported here, on first use, not at import.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import IO, Any

from reelgraph.core import MissingDependency, NotFound
from reelgraph.media.errors import MediaError

Source = str | Path
CHUNK = 1 << 20


def location(source: Source) -> str:
    """The canonical text form of a source: an absolute path, or the URL as given."""
    text = str(source)
    if _is_url(text):
        return text
    return str(Path(text.removeprefix("file://")).expanduser().resolve())


def _is_url(text: str) -> bool:
    return "://" in text and not text.startswith("file://")


@contextmanager
def open_bytes(source: Source) -> Iterator[IO[bytes]]:
    """A binary file object for a path or URL; NotFound where there is nothing there."""
    where = location(source)
    handle: IO[bytes]
    try:
        if _is_url(where):
            try:
                import fsspec
            except ModuleNotFoundError:
                raise MissingDependency("fsspec", f"reading {where}") from None
            handle = _open_url(fsspec, where)
        else:
            handle = open(where, "rb")  # noqa: SIM115 - closed by the with below
    except (FileNotFoundError, IsADirectoryError):
        raise NotFound(f"media file {where} does not exist or is not a file",
                       "check the path or URL (and that the file was copied completely)"
                       ) from None
    with handle:
        yield handle


def _open_url(fsspec: Any, where: str) -> IO[bytes]:
    """fsspec's failures as our errors: a scheme it does not know, a back-end that is not
    installed (http needs aiohttp, s3 s3fs, gs gcsfs), a server that does not answer."""
    try:
        handle: IO[bytes] = fsspec.open(where, "rb").open()
    except (FileNotFoundError, IsADirectoryError):
        raise
    except ImportError as exc:
        raise MediaError(f"cannot read {where}: its fsspec back-end is not installed ({exc})",
                         "install the package it names, or copy the file to a local path"
                         ) from None
    except ValueError as exc:
        raise MediaError(f"cannot read {where}: {exc}",
                         "use a local path or a URL scheme fsspec knows (s3://, gs://, ...)"
                         ) from None
    except OSError as exc:
        raise MediaError(f"cannot read {where} ({type(exc).__name__}: {exc})",
                         "check the URL and that its server is reachable") from None
    return handle


def checksum(source: Source) -> tuple[str, int]:
    """(sha256 hex digest, size in bytes) of the source's bytes."""
    digest = hashlib.sha256()
    size = 0
    with open_bytes(source) as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def av_module() -> Any:
    try:
        import av
    except ModuleNotFoundError:
        raise MissingDependency("av", "decoding media") from None
    return av


@contextmanager
def open_media(source: Source) -> Iterator[Any]:
    """An open PyAV input container; open failures become ``MediaError``."""
    av = av_module()
    where = location(source)
    with ExitStack() as stack:
        target: Any = where
        if _is_url(where):
            target = stack.enter_context(open_bytes(where))
        elif not Path(where).is_file():
            raise NotFound(f"media file {where} does not exist or is not a file",
                           "check the path (and that the file was copied completely)")
        try:
            container = av.open(target, "r")
        except av.error.FFmpegError as exc:
            raise unreadable(where, exc) from None
        stack.callback(container.close)
        yield container


def unreadable(where: str, exc: BaseException, at: str = "") -> MediaError:
    """The error for a file FFmpeg refused; ``at`` says how far reading got."""
    reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    place = f" at {at}" if at else ""
    return MediaError(
        f"cannot read {where} as media{place}: {reason}",
        "the file is damaged, truncated or not a video/audio format FFmpeg knows; "
        "re-export or re-download it, or convert it (e.g. ffmpeg -i IN -c:v libx264 OUT.mp4)",
    )
