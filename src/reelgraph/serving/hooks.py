"""What serving lets an operator plug in, without serving knowing who: a sink that records
every answered request (an ``Impression``), rules that rewrite an answer (an overlay),
switches that serve a canvas from a fallback environment for a while, and a traffic split
that sends a share of members to a candidate version (a canary).

The service calls the sink once per request, after the answer is computed and before it is
returned, so a sink must be cheap and never block (``reelgraph.ops.ImpressionLog`` queues
the record for a background writer). Rules run on every answer of their canvas.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class Impression:
    """One answered (or failed) request, as logged: its inputs, where it was answered,
    by which version, what came back and how long it took."""

    request_id: str
    canvas: str
    inputs: Mapping[str, Any]  # user, item, query, category, k as the caller gave them
    context: Mapping[str, Any]
    model_version: str | None
    environment: str | None  # online, nearline or fallback; None when it failed
    fallback: str | None
    items: tuple[str, ...]
    scores: tuple[float, ...]
    latency_ms: float
    cold_start: bool
    error: str | None = None  # the error class and message of a failed request
    rules: tuple[str, ...] = field(default_factory=tuple)  # overlay rules that changed it
    # CPU the request's own thread spent on it, start to answer (None: not measured)
    cpu_ms: float | None = None


class ImpressionSink(Protocol):
    """Where served answers go as impressions (RecSysOps reads them back)."""

    def record(self, impression: Impression) -> None:
        """Take one impression; must not block the request (drop and count instead)."""


class AnswerRules(Protocol):
    """Rules that rewrite answers at serving time (RecSysOps' overlay)."""

    def apply(self, canvas: str, items: tuple[tuple[str, float], ...], k: int
              ) -> tuple[tuple[tuple[str, float], ...], tuple[str, ...]]:
        """The answer rewritten by the rules active now, and the ids of those that applied."""


FALLBACK = "fallback"  # the allowed items by popularity: no model scoring at all
NEARLINE_ONLY = "nearline-only"  # stored answers even if stale; never scored online
SWITCHES = (FALLBACK, NEARLINE_ONLY)
CANARY = "canary"  # answered by the candidate version of a canary


class CanvasSwitches(Protocol):
    """Hotfixes that take a canvas off its configured environment until they expire."""

    def environment(self, canvas: str) -> str | None:
        """The environment forced on ``canvas`` now (one of ``SWITCHES``), or None."""


class TrafficSplit(Protocol):
    """Which members a candidate version answers instead of production (a canary)."""

    def version_for(self, user: str | None) -> int | None:
        """The candidate version that answers this member now, or None for production."""


def new_request_id() -> str:
    return uuid.uuid4().hex
