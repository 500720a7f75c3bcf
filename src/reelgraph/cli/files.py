"""Files the CLI writes: whole or not at all."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from reelgraph.core import InvalidInput, new_file_mode


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to a temporary file beside ``path``, then rename it over ``path``.

    A reader sees the old file or the new one, never half of it; the rename is atomic
    because both names are in one directory (one file system).
    """
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise InvalidInput(
            f"the folder {directory} does not exist", "create it or write to another path"
        )
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        os.fchmod(fd, new_file_mode())  # mkstemp's 0600 would make the file private
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise InvalidInput(
            f"cannot write {path} ({exc.strerror})", "choose a writable file path"
        ) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
