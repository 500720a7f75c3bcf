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


def window(rng: np.random.Generator, shift: float = 0.0, hit: float = 0.3,
           requests: int = 200, offset: int = 0) -> Observation:
    """A window of answers: ``requests`` answers of 4 items from a Zipf catalog (``offset``
    moves exposure to other items), asked by members drawn from 150."""
    answers = tuple(tuple(str(i + offset) for i in rng.zipf(1.6, 4) % 300)
                    for _ in range(requests))
    members = tuple(f"u{m}" for m in rng.integers(0, 150, requests))
    return Observation({"hit_rate": float(rng.binomial(200, hit) / 200),
                        "error_rate": 0.0},
                       rng.normal(1.0 + shift, 0.2, requests),
                       Counter(i for a in answers for i in a), answers=answers,
                       members=members)


def test_normal_windows_pass_and_shifts_fail() -> None:
    rng = np.random.default_rng(0)
    reference = learn([window(rng) for _ in range(40)])
    assert {"hit_rate", "score_ks", "exposure_js", "vanished_items"} <= set(
        reference.thresholds)
    normal = [f for _ in range(50) for f in reference.check(window(rng)) if not f.passed]
    assert normal == []
    drifted = {f.signal: f for f in reference.check(window(rng, shift=0.6)) if not f.passed}
    assert "score_ks" in drifted and drifted["score_ks"].severity in ("warning", "critical")
    worse = {f.signal for f in reference.check(window(rng, hit=0.02)) if not f.passed}
    assert "hit_rate" in worse


def test_launches_losing_exposure_fail_and_gaining_it_passes() -> None:
    """Under-exposed launches are the stakeholder harm; launches shown more as their plays
    arrive (popularity read as of the request) is not an incident."""
    rng = np.random.default_rng(3)

    def launches(share: float) -> Observation:
        found = window(rng)
        found.scalars["launch_exposure_share"] = share + float(rng.normal(0, 0.005))
        return found

    reference = learn([launches(0.05) for _ in range(20)])
    assert "launch_exposure_share" in reference.thresholds
    gained = [f for f in reference.check(launches(0.15)) if f.signal == "launch_exposure_share"]
    assert gained and gained[0].passed
    lost = [f for f in reference.check(launches(0.0)) if f.signal == "launch_exposure_share"]
    assert lost and not lost[0].passed

def test_drift_is_judged_at_the_windows_own_volume() -> None:
    """A raw distance grows as a window shrinks; its excess over the permutation null does
    not, so a quiet day passes while a real shift at the same volume fails."""
    rng = np.random.default_rng(2)
    reference = learn([window(rng, requests=400) for _ in range(20)])
    quiet = [window(rng, requests=30) for _ in range(20)]
    assert not [f for w in quiet for f in reference.check(w)
                if not f.passed and f.signal in ("exposure_js", "score_ks")]
    moved = {f.signal for f in reference.check(window(rng, requests=30, offset=40))
             if not f.passed}
    assert "exposure_js" in moved


def binge_window(rng: np.random.Generator, head: int = 0) -> Observation:
    """A window dominated by a few heavy members (MovieLens's test periods look like this):
    each answer is two items of the popular head (from ``head`` on) and two of the member's
    own taste, so exposure is concentrated and raw distances between windows are large."""
    members, answers = [], []
    for member in rng.choice(500, 4, replace=False):
        taste = 300 + int(member) % 250
        for _ in range(int(rng.integers(10, 60))):
            answers.append(tuple(str(head + i % 50) for i in rng.zipf(1.5, 2))
                           + tuple(str((taste + i) % 600) for i in rng.zipf(1.8, 2) % 40))
            members.append(f"u{member}")
    return Observation({}, rng.normal(1.0, 0.2, len(answers)),
                       Counter(i for a in answers for i in a), answers=tuple(answers),
                       members=tuple(members))


def test_a_few_heavy_members_are_not_drift() -> None:
    """Members' requests move together in the null: windows of a few heavy members are
    far apart by raw distance but within noise; a popular head that moves is not."""
    rng = np.random.default_rng(3)
    reference = learn([binge_window(rng) for _ in range(24)])
    normal = [f for _ in range(30) for f in reference.check(binge_window(rng))
              if not f.passed]
    assert normal == []
    moved = {f.signal for f in reference.check(binge_window(rng, head=100))
             if not f.passed}
    assert "exposure_js" in moved


def test_latency_is_judged_on_cpu_time_when_logged() -> None:
    from reelgraph.ops.signals import latency_signals

    rng = np.random.default_rng(4)
    cpu = rng.gamma(4.0, 0.75, 500)
    loaded = latency_signals(cpu * 5, cpu)  # waiting for a busy machine: wall time only
    calm = latency_signals(cpu, cpu)
    assert loaded == pytest.approx(calm)
    heavier = latency_signals(cpu * 3, cpu * 3)  # a recommender that computes more
    assert heavier["latency_p50_cpu_ms"] > 2.5 * calm["latency_p50_cpu_ms"]
    partly = cpu.copy()
    partly[::3] = np.nan  # a thread's first request has no CPU figure
    assert set(latency_signals(cpu, partly)) == {"latency_p50_cpu_ms", "latency_p95_cpu_ms"}
    assert set(latency_signals(cpu, None)) == {"latency_p50_ms", "latency_p95_ms"}


def test_latency_alerts_on_a_step_not_on_a_slow_drift_of_the_machine() -> None:
    """CPU per request drifting up 1% a window (a machine getting busier: the clean
    benchmark run's creep) never fails; the same level reached in one step does."""
    rng = np.random.default_rng(5)

    def at(level: float) -> Observation:
        found = window(rng)
        found.scalars["latency_p50_cpu_ms"] = level * float(rng.normal(1.0, 0.02))
        return found

    levels = 3.0 * 1.01 ** np.arange(120)  # x3.3 by the end
    history = [at(level) for level in levels]
    lag = 4
    reference = learn(history[:40], lag=lag)
    assert "latency_p50_cpu_ms_change" in reference.thresholds
    assert "latency_p50_cpu_ms" not in reference.thresholds
    drifting = [f.message for i in range(40, 120)
                for f in reference.check(history[i], history[i - lag])
                if not f.passed and f.signal.startswith("latency")]
    assert drifting == []
    # far above the reference level, but no higher than the window before: passes
    stepped = at(levels[-1])
    assert all(f.passed for f in reference.check(stepped, at(levels[-1] / 1.04))
               if f.signal.startswith("latency"))
    # the same level right after a window at the reference's own level: a step, fails
    failed = {f.signal for f in reference.check(stepped, at(levels[20])) if not f.passed}
    assert "latency_p50_cpu_ms_change" in failed
    # saved and loaded, the reference still measures a change without a lagged window
    from reelgraph.ops.checks import Reference

    loaded = Reference.from_dict(reference.to_dict())
    assert "latency_p50_cpu_ms_change" in {f.signal for f in loaded.check(stepped)
                                           if not f.passed}
    assert all(f.passed for f in loaded.check(at(levels[20]))
               if f.signal.startswith("latency"))

    # a reference saved before latency was judged as a change (absolute thresholds, no
    # pooled levels) loads without them instead of failing every window as unmeasurable
    saved = reference.to_dict()
    saved["thresholds"] = {("latency_p50_cpu_ms" if k == "latency_p50_cpu_ms_change" else k): t
                           for k, t in saved["thresholds"].items()}
    del saved["pool_scalars"]
    old = Reference.from_dict(saved)
    assert not any(f.signal.startswith("latency") for f in old.check(at(levels[20])))


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
