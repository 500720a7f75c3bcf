"""An offline-store compaction killed half-way: before its rename the old files stay the
truth (the temporary is collected), after it the old and merged files hold the same rows
(reads fold them) and the next compaction finishes the job; no row is lost or doubled."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest
from fault_harness import crash

from reelgraph.features.offline import ParquetOfflineStore
from reelgraph.features.ports import FeatureRef, FeatureRows

SCORE = FeatureRef("faults", "score", "v1", "title", {"kind": "scalar", "dtype": "float64"})

COMPACT = """
    import sys
    from reelgraph.features.offline import ParquetOfflineStore
    from reelgraph.features.ports import FeatureRef
    feature = FeatureRef("faults", "score", "v1", "title", {"kind": "scalar", "dtype": "float64"})
    ParquetOfflineStore(sys.argv[1]).compact(feature)
"""


def rows(store: ParquetOfflineStore) -> int:
    return sum(pq.read_metadata(f).num_rows for f in store.files(SCORE))


@pytest.mark.parametrize(
    ("point", "files_after_kill"),
    [
        ("files.atomic.before_rename", 12),  # the merged file never appeared
        ("features.compaction.renamed", 13),  # the merged file and every original
    ],
)
def test_a_killed_compaction_loses_nothing(
    tmp_path: Path, point: str, files_after_kill: int
) -> None:
    store = ParquetOfflineStore(tmp_path)
    for n in range(12):  # key k<n%4> rewritten, some at the same event time
        store.write(SCORE, FeatureRows([f"k{n % 4}", f"x{n}"], [float(n), -1.0], [n // 2, 0]))
    latest, as_of, keys = store.latest(SCORE), store.latest(SCORE, as_of_us=2), store.keys(SCORE)

    crash(COMPACT, str(tmp_path), point=point)

    reopened = ParquetOfflineStore(tmp_path)  # collects a killed writer's temporary
    assert not list(tmp_path.rglob("*.tmp"))
    assert len(reopened.files(SCORE)) == files_after_kill
    assert (reopened.latest(SCORE), reopened.latest(SCORE, as_of_us=2), reopened.keys(SCORE)) == (
        latest,
        as_of,
        keys,
    )
    done = reopened.compact(SCORE)  # finishes (or redoes) the interrupted merge
    assert len(reopened.files(SCORE)) == 1 and done.files_after == 1
    assert rows(reopened) == 24
    assert (reopened.latest(SCORE), reopened.latest(SCORE, as_of_us=2), reopened.keys(SCORE)) == (
        latest,
        as_of,
        keys,
    )
