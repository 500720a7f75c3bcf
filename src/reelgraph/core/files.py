"""Local files: atomic writes, and importing user code from a ``.py`` file."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType

from reelgraph.core.errors import InvalidInput, NotFound


def new_file_mode() -> int:
    """The mode ``open()`` gives a new file: 0666 less the process umask (0644 usually)."""
    mask = os.umask(0o022)  # read the umask by setting it; put it back at once
    os.umask(mask)
    return 0o666 & ~mask


def write_atomic(target: Path, data: bytes) -> None:
    """Write ``data`` to ``target`` so readers see the old file or the whole new one."""
    with atomic_path(target) as temporary, temporary.open("wb") as handle:
        handle.write(data)


@contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """A temporary path beside ``target`` to write (by any means); on success it is fsynced
    and renamed over ``target``, on error removed: readers never see a partial file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.fchmod(fd, new_file_mode())  # mkstemp's 0600 would make the result private
    os.close(fd)
    temporary = Path(name)
    try:
        yield temporary
        with temporary.open("rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def import_file(path: str | Path, module_prefix: str, kind: str, defines: str) -> ModuleType:
    """Import a user's Python file as a module named after its path, registered in
    ``sys.modules`` (worker processes unpickle its functions by module name). ``kind`` and
    ``defines`` word the errors: "no flow file at X ... a .py file defining a Flow"."""
    file = Path(path).resolve()
    if not file.is_file():
        raise NotFound(f"no {kind} file at {path}",
                       f"pass the path of a .py file defining {defines}")
    digest = hashlib.sha256(str(file).encode()).hexdigest()[:8]
    module_name = f"{module_prefix}{file.stem}_{digest}"
    spec = importlib.util.spec_from_file_location(module_name, file)
    if spec is None or spec.loader is None:
        raise InvalidInput(f"{path} is not a Python file", f"pass a .py file defining {defines}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[module_name]
        raise
    return module
