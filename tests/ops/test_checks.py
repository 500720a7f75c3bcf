"""Checks learn their thresholds from the reference's own variability: normal windows pass,
a shifted one fails with a severity, an unreadable source fails as a check."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from reelgraph.core.errors import InvalidInput
from reelgraph.ops.checks import learn
from reelgraph.ops.signals import Observation, dataset_observation


def window(rng: np.random.Generator, shift: float = 0.0, hit: float = 0.3) -> Observation:
    items = rng.zipf(1.6, 400) % 300
    return Observation({"hit_rate": float(rng.binomial(200, hit) / 200),
                        "error_rate": 0.0},
                       rng.normal(1.0 + shift, 0.2, 200), Counter(str(i) for i in items))


def test_normal_windows_pass_and_shifts_fail() -> None:
    rng = np.random.default_rng(0)
    reference = learn([window(rng) for _ in range(40)])
    assert {"hit_rate", "score_ks", "exposure_js", "vanished_items"} <= set(
        reference.thresholds)
    normal = [f for _ in range(50) for f in reference.check(window(rng)) if not f.passed]
    assert normal == []
    drifted = {f.signal: f for f in reference.check(window(rng, shift=0.6)) if not f.passed}
    assert "score_ks" in drifted and drifted["score_ks"].severity in ("warning", "critical")
    worse = {f.signal for f in reference.check(window(rng, hit=0.05)) if not f.passed}
    assert "hit_rate" in worse


def test_a_missing_source_fails_as_a_check() -> None:
    rng = np.random.default_rng(1)
    reference = learn([window(rng) for _ in range(10)])
    found = reference.check(Observation({}, error="folder gone"))
    assert [(f.signal, f.passed, f.severity) for f in found] == [("source", False, "critical")]
    unmeasured = reference.check(Observation({"error_rate": 0.0}))
    assert any(f.signal == "hit_rate" and not f.passed for f in unmeasured)
    with pytest.raises(InvalidInput, match="too few"):
        learn([window(rng)])


def test_dataset_volume_and_schema(tmp_path: Path) -> None:
    for arrived, rows in ((100, 10), (200, 12), (300, 5)):
        pq.write_table(pa.table({"user": ["1"] * rows, "item": ["2"] * rows}),
                       tmp_path / f"{arrived}.parquet")
    pq.write_table(pa.table({"user": ["1"], "movie": ["2"]}), tmp_path / "400.parquet")
    columns = ("user:string", "item:string")
    early = dataset_observation(tmp_path, 50, 250, columns).scalars
    assert early["rows"] == 22 and early["schema_changed"] == 0
    assert early["hours_since_last"] == pytest.approx(50 / 3600)
    late = dataset_observation(tmp_path, 250, 450, columns).scalars
    assert late["rows"] == 6 and late["schema_changed"] == 1
    assert dataset_observation(tmp_path / "gone", 0, 1, columns).error is not None
