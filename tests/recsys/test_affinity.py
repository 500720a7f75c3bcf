"""Task affinity: pairwise training against single-task, with intervals and verdicts."""

from __future__ import annotations

from dataclasses import replace

import pytest
from recsys_samples import SMALL_CONFIG

from reelgraph.core.errors import InvalidInput
from reelgraph.recsys import measure_affinity
from reelgraph.recsys.experiment import Prepared


def test_affinity_of_two_canvases(prepared: Prepared) -> None:
    config = replace(SMALL_CONFIG, train=replace(SMALL_CONFIG.train, epochs=1))
    trained: list[str] = []
    report = measure_affinity(prepared, config, ("related", "notifications"), trained.append)
    assert trained == ["related", "notifications", "related + notifications"]
    assert set(report.gains) == {"related", "notifications"}
    gain = report.gains["related"]["notifications"]
    assert gain.low <= gain.mean <= gain.high
    assert 0.0 <= report.alone["related"] <= 1.0
    found = report.to_dict()
    assert found["verdicts"]["related"] in {"gains from sharing", "better apart", "neutral"}
    assert found["gains"]["notifications"]["related"]["verdict"] in {"win", "tie", "loss"}


def test_affinity_needs_two_canvases(prepared: Prepared) -> None:
    with pytest.raises(InvalidInput, match="two or more distinct canvases"):
        measure_affinity(prepared, SMALL_CONFIG, ("search",))
