"""Checks: a window's observation against a reference learned from the reference's own
variability, so a threshold generalises to faults nobody listed.

``learn`` takes the observations of a reference period in time order. Its first half is
pooled into the reference sample (answers, who asked, top scores, exposure per item, the
"regular" items shown in every window); its second half calibrates: each of its windows is
measured like a live one (scalars plus drift against the pool or a lagged window, drift in
standard deviations of its own permutation null at that window's size, see ``drift``;
latency as its ratio to the lagged window's, see ``latency_changes``), and
each signal's centre and spread are the median and a robust spread of those values. A live
window fails a signal when it lies more than ``z`` spreads from the centre; a signal the
reference could measure and the window cannot (its source is missing or unreadable) fails
too. Spreads have a floor, so a signal constant in the reference (no errors, no schema
change) still tolerates noise below it, and ``z`` is set for at most one false alarm per
simulated month (``benchmarks/recsysops.py`` measures it).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from reelgraph.core import InvalidInput
from reelgraph.ops.signals import Observation

Z = 6.0  # spreads from the centre that fail a signal
CRITICAL_Z = 3 * Z
LATENCY = ("latency_p50_ms", "latency_p95_ms", "latency_p50_cpu_ms", "latency_p95_cpu_ms")
REGULAR_MIN = 5  # exposures per window an item needs in every pooled window to be "regular"
POOL_SAMPLE = 5_000  # pooled requests kept: the null's cost grows with them
# the smallest spread per signal, by unit: counts tolerate one, shares and statistics 1e-3
COUNT_SIGNALS = ("requests", "rows", "partitions", "plays_joined", "vanished_items")
# Signals where only one direction harms: quality falling, launches losing exposure, errors,
# latency and drift rising. An improvement is not an incident (ml-latest-small's bursty
# members lift MRR for a day; a model that reads popularity as of the request shows new
# titles more as their plays arrive, which a shift in concentration would still catch).
LOWER_IS_WORSE = ("hit_rate", "mrr", "launch_exposure_share")
HIGHER_IS_WORSE = ("error_rate", "latency_", "score_ks", "exposure_js", "vanished_items",
                   "_changed_share", "_ks", "schema_changed", "hours_since_last")


def harmful(name: str, z: float) -> bool:
    """Whether a deviation of ``z`` spreads is in the direction that hurts for ``name``."""
    if name.startswith(LOWER_IS_WORSE):
        return z < 0
    if any(part in name for part in HIGHER_IS_WORSE):
        return z > 0
    return True


@dataclass(frozen=True)
class Threshold:
    center: float
    spread: float

    def z(self, value: float) -> float:
        return (value - self.center) / self.spread

    def to_dict(self) -> dict[str, float]:
        return {"center": self.center, "spread": self.spread}


@dataclass(frozen=True)
class Finding:
    signal: str
    value: float | None
    z: float | None
    passed: bool
    severity: str | None  # warning or critical when failed
    message: str


@dataclass
class Reference:
    thresholds: dict[str, Threshold]
    pool: Observation = field(default_factory=lambda: Observation({}))
    regulars: frozenset[str] = frozenset()
    z: float = Z
    lagged: bool = False  # learned with drift against a lagged window (``check`` needs it)

    @property
    def exposure(self) -> Counter[str]:
        return self.pool.exposure

    def measure(self, observation: Observation, lagged: Observation | None = None
                ) -> dict[str, float]:
        """The observation's scalars plus its drift against the window ``lag`` before it
        (``lagged``; slow drift then stays small, a sudden change does not), or against
        the reference's pools without one."""
        values = dict(observation.scalars)
        if lagged is not None and len(lagged.scores) < 5:  # too little to compare with
            lagged = None
        values.update(observation.drift(lagged if lagged is not None else self.pool))
        values.update(latency_changes(values, lagged if lagged is not None else self.pool))
        if self.exposure:
            values["vanished_items"] = float(sum(1 for i in self.regulars
                                                 if observation.exposure.get(i, 0) == 0))
        return values

    def check(self, observation: Observation, lagged: Observation | None = None
              ) -> list[Finding]:
        if observation.error is not None:
            return [Finding("source", None, None, False, "critical",
                            f"the source could not be read: {observation.error}")]
        usable = self.lagged and lagged is not None and lagged.error is None
        values = self.measure(observation, lagged if usable else None)
        found = []
        for name, threshold in sorted(self.thresholds.items()):
            value = values.get(name, float("nan"))
            if not math.isfinite(value):
                found.append(Finding(name, None, None, False, "warning",
                                     f"{name} is not measurable in this window (the "
                                     f"reference had {threshold.center:.4g})"))
                continue
            z = threshold.z(value)
            failed = abs(z) > self.z and harmful(name, z)
            severity = None if not failed else "critical" if abs(z) > 3 * self.z else "warning"
            found.append(Finding(
                name, value, z, not failed, severity,
                f"{name} = {value:.4g}, reference {threshold.center:.4g} ± "
                f"{threshold.spread:.2g} (z = {z:+.1f})"))
        return found

    def to_dict(self) -> dict[str, Any]:
        return {"thresholds": {k: t.to_dict() for k, t in self.thresholds.items()},
                "scores": self.pool.scores, "exposure": dict(self.exposure),
                "answers": [list(a) for a in self.pool.answers],
                "members": list(self.pool.members),
                "regulars": sorted(self.regulars), "z": self.z, "lagged": self.lagged,
                "pool_scalars": dict(self.pool.scalars)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Reference:
        pool = Observation(dict(data.get("pool_scalars", {})), np.asarray(data["scores"]),
                           Counter(data["exposure"]),
                           answers=tuple(tuple(a) for a in data.get("answers", [])),
                           members=tuple(data.get("members", [])))
        # a reference learned before latency was judged as a change holds thresholds on the
        # absolute levels, which are no longer measured: dropped rather than failing every
        # window as unmeasurable (relearning the monitor adds the ``*_change`` ones)
        thresholds = {k: Threshold(**t) for k, t in data["thresholds"].items()
                      if k not in LATENCY}
        return cls(thresholds, pool,
                   frozenset(data["regulars"]), float(data["z"]), bool(data["lagged"]))


def latency_changes(values: dict[str, float], before: Observation) -> dict[str, float]:
    """Each latency scalar as its ratio to the same signal ``before`` (the lagged window, or
    the reference's pooled level without one), in place of its absolute value.

    Why: a request's CPU time is not a property of the code alone. Measured on the shared
    benchmark machine, the same requests took 2.2 ms of CPU at p50 alone and 4.5-5.6 ms
    beside two CPU-bound processes (``benchmarks/README.md``, recsysops), so an absolute
    level learned in a quiet reference fails whenever the machine gets busier, slowly or
    not. A fault in the serving path arrives as a step when something ships or breaks;
    against the window ``lag`` before, a step stands out and a slow drift of the
    machine does not (the price: a slow growth of our own cost never alerts here).
    """
    found = {}
    for name in LATENCY:
        if name in values:
            value = values.pop(name)
            base = before.scalars.get(name, float("nan"))
            found[f"{name}_change"] = value / base if base > 0 else float("nan")
    return found


def _spread(values: np.ndarray, name: str) -> float:
    median = float(np.median(values))
    mad = 1.4826 * float(np.median(np.abs(values - median)))
    floor = 1.0 if name in COUNT_SIGNALS else 1e-3
    return max(mad, float(values.std()), 0.05 * abs(median), floor)


def learn(observations: Sequence[Observation], z: float = Z, lag: int = 0) -> Reference:
    """A reference from a period's observations in time order, equally spaced (at least
    four); ``lag``: drift is measured against the observation that many steps earlier."""
    usable = [o for o in observations if o.error is None]
    if len(usable) < 4:
        raise InvalidInput(f"{len(usable)} readable reference windows are too few to learn "
                           "thresholds from", "give a reference period of at least four windows")
    pool, calibration = usable[:len(usable) // 2], usable[len(usable) // 2:]
    pooled = Observation.pooled(pool, POOL_SAMPLE)
    for name in LATENCY:  # the level a latency change is measured from without a lagged window
        levels = [o.scalars[name] for o in pool if math.isfinite(o.scalars.get(name, math.nan))]
        if levels:
            pooled.scalars[name] = float(np.median(levels))
    regulars = frozenset(i for i in pooled.exposure
                         if all(o.exposure.get(i, 0) >= REGULAR_MIN for o in pool))
    reference = Reference({}, pooled, regulars, z, lag > 0)
    half = len(usable) // 2
    measured = [reference.measure(o, usable[half + i - lag] if lag and half + i >= lag
                                  else None) for i, o in enumerate(calibration)]
    for name in sorted({n for m in measured for n in m}):
        values = np.array([m.get(name, float("nan")) for m in measured], float)
        if len(values) >= 2 and np.isfinite(values).all():  # measurable in every window
            reference.thresholds[name] = Threshold(float(np.median(values)),
                                                   _spread(values, name))
    return reference
