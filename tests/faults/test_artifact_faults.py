"""Artifact and offline-feature files under kill -9: no partial object is ever visible, the
temporaries of killed writes are collected on the next open (a live writer's are kept), and
what is written is readable by other accounts (0666 less the umask), not 0600."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from fault_harness import crash, python

from reelgraph.artifacts import ArtifactStore
from reelgraph.core.files import atomic_path, collect_temporaries

PUT = """
    import sys
    from reelgraph.artifacts import ArtifactStore
    print(ArtifactStore(sys.argv[1]).put({"rows": list(range(1000))}).digest)
"""


def test_a_killed_artifact_write_leaves_nothing_visible_and_its_temporary_is_collected(
        tmp_path: Path) -> None:
    root = tmp_path / "artifacts"
    crash(PUT, str(root), point="files.atomic.before_rename")
    objects = root / "objects"
    assert [p for p in objects.rglob("*") if p.is_file() and not p.name.endswith(".tmp")] == []
    assert len(list(objects.rglob("*.tmp"))) == 1  # what the killed write left

    done = python(PUT, str(root))  # a new process opens the store: the leftover goes
    assert done.returncode == 0, done.stderr
    assert list(objects.rglob("*.tmp")) == []
    store = ArtifactStore(root)
    (stored,) = [p for p in objects.rglob("*") if p.is_file()]
    assert store.get_bytes(done.stdout.strip()) == stored.read_bytes()
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(stored.stat().st_mode) == 0o666 & ~umask


def test_a_live_writers_temporary_is_kept(tmp_path: Path) -> None:
    with atomic_path(tmp_path / "value.bin") as temporary:
        temporary.write_bytes(b"half")
        assert collect_temporaries(tmp_path) == 0  # this process is alive: not touched
        assert temporary.exists()
    assert (tmp_path / "value.bin").read_bytes() == b"half"
