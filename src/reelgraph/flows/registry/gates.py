"""Promotion gates: declared checks a model version must pass before it enters a stage.

A gate looks at the candidate's metrics and, for ``MetricNotWorse``, at the metrics of the
version in production now. A gate that cannot be evaluated (the metric is missing from a
version) is bad input, not a failed check: the promotion stops with ``InvalidInput`` and
nothing is stored, so a typo in a metric name never reads as "the model is worse".
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from reelgraph.core import InvalidInput

Metrics = Mapping[str, float]


@dataclass(frozen=True)
class GateResult:
    gate: str  # the gate's name, e.g. "metric_not_worse:ndcg@10"
    passed: bool
    detail: str  # the check with its numbers, for people

    def to_dict(self) -> dict[str, Any]:
        return {"gate": self.gate, "passed": self.passed, "detail": self.detail}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> GateResult:
        return cls(str(data["gate"]), bool(data["passed"]), str(data["detail"]))


@dataclass(frozen=True)
class Baseline:
    """The version a comparison is made against: the one in production now."""

    version: int
    metrics: Metrics


class Gate(Protocol):
    """A promotion rule over one metric of a model version, maybe against a baseline."""

    kind: ClassVar[str]

    @property
    def metric(self) -> str:
        """The metric it reads (e.g. ``ndcg@10``)."""
        ...

    @property
    def name(self) -> str:
        """A short unique label, as shown by ``reelgraph models gates``."""
        ...

    def check(self, version: int, metrics: Metrics, baseline: Baseline | None) -> GateResult:
        """Pass or fail ``version`` given its metrics and the baseline's (None: none yet)."""
        ...

    def to_dict(self) -> dict[str, Any]:
        """The gate as JSON, as stored with the model and read back by ``gate_from_dict``."""
        ...


def _num(value: float) -> str:
    return f"{value:.4g}"


def _metric(metrics: Metrics, metric: str, whose: str) -> float:
    if metric not in metrics:
        raise InvalidInput(
            f"{whose} has no metric {metric!r} (it has {sorted(metrics) or 'none'}), so its "
            "gate cannot be evaluated",
            f"register a version with metrics={{{metric!r}: ...}} or remove the gate on "
            f"{metric!r} (`reelgraph models gates NAME --remove ...`)",
        )
    return float(metrics[metric])


def _check_metric_name(metric: str) -> str:
    if not isinstance(metric, str) or not metric.strip():
        raise InvalidInput(f"gate metric {metric!r} is not a metric name",
                           "name a metric the model's versions record, e.g. 'ndcg@10'")
    return metric


def _finite(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidInput(f"{what} {value!r} is not a finite number", f"give {what} as a number")
    return float(value)


@dataclass(frozen=True)
class _Threshold:
    """A metric compared with a fixed threshold; subclasses say which way passes."""

    metric: str
    threshold: float
    kind: ClassVar[str]
    words: ClassVar[tuple[str, str]]  # how a pass and a failure read

    def __post_init__(self) -> None:
        _check_metric_name(self.metric)
        object.__setattr__(self, "threshold", _finite(self.threshold, "the threshold"))

    @property
    def name(self) -> str:
        return f"{self.kind}:{self.metric}"

    def passes(self, value: float) -> bool:
        raise NotImplementedError

    def check(self, version: int, metrics: Metrics, baseline: Baseline | None) -> GateResult:
        value = _metric(metrics, self.metric, f"v{version}")
        ok = self.passes(value)
        relation = self.words[0] if ok else self.words[1]
        return GateResult(self.name, ok,
                          f"{self.metric} = {_num(value)} is {relation} {_num(self.threshold)}")

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "metric": self.metric, "threshold": self.threshold}


@dataclass(frozen=True)
class MetricAtLeast(_Threshold):
    """Passes when the candidate's metric is at least ``threshold``."""

    kind: ClassVar[str] = "metric_at_least"
    words: ClassVar[tuple[str, str]] = ("at least", "below the minimum")

    def passes(self, value: float) -> bool:
        return value >= self.threshold


@dataclass(frozen=True)
class MetricAtMost(_Threshold):
    """Passes when the candidate's metric is at most ``threshold`` (losses, latencies)."""

    kind: ClassVar[str] = "metric_at_most"
    words: ClassVar[tuple[str, str]] = ("at most", "above the maximum")

    def passes(self, value: float) -> bool:
        return value <= self.threshold


@dataclass(frozen=True)
class MetricNotWorse:
    """Passes when the candidate is not worse than production by more than ``margin``.

    With no version in production there is nothing to compare with, and the gate passes.
    ``higher_is_better=False`` is for losses (rmse, latency): there, worse means larger.
    """

    metric: str
    margin: float = 0.0
    higher_is_better: bool = True
    kind: ClassVar[str] = "metric_not_worse"

    def __post_init__(self) -> None:
        _check_metric_name(self.metric)
        margin = _finite(self.margin, "the margin")
        if margin < 0:
            raise InvalidInput(f"the margin {margin} is negative",
                               "give a margin of 0 or more (how much worse is tolerated)")
        object.__setattr__(self, "margin", margin)

    @property
    def name(self) -> str:
        return f"{self.kind}:{self.metric}"

    def check(self, version: int, metrics: Metrics, baseline: Baseline | None) -> GateResult:
        value = _metric(metrics, self.metric, f"v{version}")
        if baseline is None:
            return GateResult(self.name, True, f"{self.metric} = {_num(value)}; no version in "
                                               "production to compare with")
        reference = _metric(baseline.metrics, self.metric, f"production v{baseline.version}")
        worse_by = reference - value if self.higher_is_better else value - reference
        ok = worse_by <= self.margin + 1e-12  # a tie at the margin passes despite rounding
        prod = f"production v{baseline.version}'s {_num(reference)}"
        if ok:
            detail = (f"{self.metric} = {_num(value)} is within {_num(self.margin)} of {prod}"
                      if worse_by > 0 else f"{self.metric} = {_num(value)} is no worse than "
                                            f"{prod}")
        else:
            detail = (f"{self.metric} = {_num(value)} is worse than {prod} by {_num(worse_by)}, "
                      f"more than the margin {_num(self.margin)}")
        return GateResult(self.name, ok, detail)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "metric": self.metric, "margin": self.margin,
                "higher_is_better": self.higher_is_better}


GATE_KINDS: dict[str, type[MetricAtLeast] | type[MetricAtMost] | type[MetricNotWorse]] = {
    cls.kind: cls for cls in (MetricAtLeast, MetricAtMost, MetricNotWorse)
}


def gate_from_dict(data: Mapping[str, Any]) -> Gate:
    """A gate from its JSON form (``to_dict``); unknown kinds and fields are refused."""
    fields = dict(data)
    kind = fields.pop("kind", None)
    cls = GATE_KINDS.get(str(kind))
    if cls is None:
        raise InvalidInput(f"unknown gate kind {kind!r}", f"use one of {sorted(GATE_KINDS)}")
    try:
        gate: Gate = cls(**fields)
    except TypeError as exc:
        raise InvalidInput(f"gate {kind!r} has wrong fields ({exc})",
                           "metric_at_least/metric_at_most take metric and threshold; "
                           "metric_not_worse takes metric, margin and higher_is_better") from None
    return gate
