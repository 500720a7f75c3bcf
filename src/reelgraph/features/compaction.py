"""Compaction of the offline store: a feature's many small Parquet files merged into one.

Every write adds a file, so a feature written row by row ends up as thousands of files that
each read lists, opens and plans. Compaction merges the committed files into one
``<newest write id>.merged.parquet`` holding every row of them unchanged (same key, value,
event time, ``written_us`` and ``run_id``: the "later write wins" order is kept by
``written_us``, not by the order of rows), then deletes the files it replaced. It streams:
record batches are copied from each file to the merged one as they are read, so memory
holds one batch, not the feature (a merged file of millions of rows is merged again).

Atomic for readers: the merged file is written beside the originals under a temporary name
and renamed into place before any original is deleted, so a reader sees the old files, the
new one, or both (the same rows twice, which the reads' de-duplication folds); a reader
whose listed file vanished meanwhile lists again (``ParquetOfflineStore`` does). A kill
before the rename leaves a temporary that ``collect_temporaries`` removes; a kill after it
leaves originals that the merged file names in its metadata, deleted by the next compaction.
One compaction per feature at a time (an advisory lock beside the files); a second one
finds the lock taken and skips.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq

from reelgraph.core import atomic_path, fault_point

MERGED_SUFFIX = ".merged.parquet"
_REPLACES = b"reelgraph.replaces"  # Parquet metadata of a merged file: the names it holds
_LOCK = ".compaction.lock"
_BATCH_ROWS = 65_536  # rows read and written at a time: the most a compaction holds


@dataclass(frozen=True)
class Compaction:
    """What one compaction did: files before and after, rows merged (0: nothing to do)."""

    files_before: int
    files_after: int
    rows: int


@contextlib.contextmanager
def _exclusive(folder: Path) -> Iterator[bool]:
    """Hold the feature's compaction lock if no other process does; yields whether held."""
    with (folder / _LOCK).open("a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _finish_interrupted(folder: Path) -> None:
    """Delete the originals that a merged file already holds (a compaction killed after
    its rename left them; until now reads folded their duplicate rows)."""
    for merged in folder.glob(f"*{MERGED_SUFFIX}"):
        try:
            metadata = pq.read_schema(merged).metadata or {}
        except FileNotFoundError:
            continue
        for name in json.loads(metadata.get(_REPLACES, b"[]")):
            if name != merged.name:
                (folder / name).unlink(missing_ok=True)


def _merged_name(files: list[Path]) -> str:
    newest = max(f.name.removesuffix(MERGED_SUFFIX).removesuffix(".parquet") for f in files)
    return newest + MERGED_SUFFIX


def compact_folder(folder: Path) -> Compaction:
    """Merge the committed ``*.parquet`` files of one feature's folder into one file."""
    if not folder.is_dir():
        return Compaction(0, 0, 0)
    with _exclusive(folder) as held:
        files = sorted(folder.glob("*.parquet"))
        if not held:
            return Compaction(len(files), len(files), 0)
        _finish_interrupted(folder)
        files = sorted(folder.glob("*.parquet"))
        if len(files) < 2:
            return Compaction(len(files), len(files), 0)
        target = folder / _merged_name(files)
        with atomic_path(target) as temporary:
            rows = _copy_rows(files, temporary)
        fault_point("features.compaction.renamed")
        for original in files:
            if original != target:
                original.unlink(missing_ok=True)
        return Compaction(len(files), len(list(folder.glob("*.parquet"))), rows)


def _copy_rows(files: list[Path], target: Path) -> int:
    """Copy every row of ``files`` into one Parquet file at ``target``, batch by batch (up
    to ``_BATCH_ROWS`` rows in memory); the file's metadata names the files it replaces."""
    # Write-time metadata (the writer's pid) describes single writes only: dropped.
    schema = pq.read_schema(files[0]).remove_metadata().with_metadata(
        {_REPLACES: json.dumps([f.name for f in files]).encode()})
    rows = 0
    with pq.ParquetWriter(target, schema) as writer:
        for name in files:
            with pq.ParquetFile(name) as source:
                for batch in source.iter_batches(batch_size=_BATCH_ROWS):
                    writer.write_batch(batch)
                    rows += batch.num_rows
    return rows
