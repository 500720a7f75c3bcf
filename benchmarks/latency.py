"""Latency summaries shared by the HTTP benchmarks (serving.py, load.py): percentiles of
milliseconds, and what an open-loop step achieved (rate, errors) from its outcomes."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass
class Outcome:
    """One request of an open-loop run, timed on the event loop's clock (seconds)."""

    scheduled: float  # loop time it is due
    started: float = 0.0  # when the client got to it (late when the client is busy)
    sent: float = 0.0  # when it was written (later still while every connection is busy)
    done: float = 0.0  # answered, or given up on
    status: int = 0  # 0: no answer (connection error, or none before the drain ran out)
    body: bytes = b""


def percentiles(ms: Sequence[float]) -> dict[str, float]:
    """p50, p90, p99, max and mean of ``ms`` (NaN for none), rounded to µs."""
    if not ms:
        return {
            "p50_ms": float("nan"),
            "p90_ms": float("nan"),
            "p99_ms": float("nan"),
            "max_ms": float("nan"),
            "mean_ms": float("nan"),
        }
    values = np.asarray(ms)
    p50, p90, p99 = np.percentile(values, [50, 90, 99])
    return {
        "p50_ms": round(float(p50), 3),
        "p90_ms": round(float(p90), 3),
        "p99_ms": round(float(p99), 3),
        "max_ms": round(float(values.max()), 3),
        "mean_ms": round(float(values.mean()), 3),
    }


def scheduled_latency_ms(outcomes: Sequence[Outcome]) -> list[float]:
    """Each request's time from when it was due (no coordinated omission); one never
    answered counts with the time it was given up on, a lower bound."""
    return [(o.done - o.scheduled) * 1000 for o in outcomes]


def achieved(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    """The rate answers came back at, and the requests that got no 200 (by kind)."""
    answered = [o for o in outcomes if o.status]
    errors = Counter(
        str(o.status) if o.status else "no answer" for o in outcomes if o.status != 200
    )
    first = min(o.scheduled for o in outcomes)
    last = max((o.done for o in answered), default=first)
    return {
        "achieved_rate": round(len(answered) / (last - first), 1) if last > first else 0.0,
        "errors": sum(errors.values()),
        "error_kinds": dict(errors),
    }
