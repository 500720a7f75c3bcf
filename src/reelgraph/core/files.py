"""Local files: atomic writes (and collecting what killed ones left), and importing user code
from a ``.py`` file."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType

from reelgraph.core.errors import InvalidInput, NotFound
from reelgraph.core.faults import fault_point
from reelgraph.core.liveness import pid_exists


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
    and renamed over ``target``, on error removed: readers never see a partial file.

    The file is created with mode 0666 less the umask (0644 usually), like any file the
    process writes, so a server under another account can read it. Its name carries the
    writer's pid, so ``collect_temporaries`` can remove what a killed writer left.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.parent / f".{target.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp"
    os.close(os.open(temporary, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
    try:
        yield temporary
        with temporary.open("rb+") as handle:
            os.fsync(handle.fileno())
        fault_point("files.atomic.before_rename")
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


_TEMPORARY = re.compile(r"^\..+\.(\d+)-[0-9a-f]{8}\.tmp$")
_ABANDONED_S = 24 * 3600  # a temporary this old is abandoned even if its pid was reused


def collect_temporaries(folder: Path) -> int:
    """Remove the temporaries of ``atomic_path`` under ``folder`` whose writer has died (or
    that are a day old); returns how many. Live writers' files are left alone."""
    removed = 0
    if not folder.is_dir():
        return 0
    now = time.time()
    for path in folder.rglob(".*.tmp"):
        match = _TEMPORARY.match(path.name)
        if match is None:
            continue
        try:
            stale = now - path.stat().st_mtime > _ABANDONED_S
        except FileNotFoundError:  # its writer finished meanwhile
            continue
        if stale or not pid_exists(int(match.group(1))):
            path.unlink(missing_ok=True)
            removed += 1
    return removed


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
