"""The overlay: what RecSysOps changes at serving time, with no retraining.

- rules: block, pin or boost items on a canvas, with an expiry (``AnswerRules``);
- switches: a canvas served from the popularity fallback or from stored answers only,
  until a time (``CanvasSwitches``);
- the running canary: a share of members, chosen by a hash of their id, answered by a
  candidate version (``TrafficSplit``).

``RecommendationService(ws, rules=overlay, switches=overlay, split=overlay)`` applies it to
every answer. Rows live in the ops tables (who, when, why: the incident), are never deleted
(removing one stamps it), and are re-read every ``reload_s`` seconds, so a hotfix written by
another process applies within that time. ``canvas="*"`` applies everywhere.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable

from reelgraph.ops.store import Canary, OpsStore, Rule, Switch

ACTIONS = ("block", "pin", "boost")
Items = tuple[tuple[str, float], ...]


class Overlay:
    def __init__(self, store: OpsStore, clock: Callable[[], float] = time.time,
                 reload_s: float = 5.0) -> None:
        self.store = store
        self.clock = clock
        self.reload_s = reload_s
        self._rules: list[Rule] = []
        self._switches: list[Switch] = []
        self._canary: Canary | None = None
        self._loaded = float("-inf")
        self._lock = threading.Lock()

    def reload(self) -> None:
        rules, switches = self.store.rules(), self.store.switches()
        running = [c for c in self.store.canaries() if c.status == "running"]
        with self._lock:
            self._rules = [r for r in rules if r.removed_at is None]
            self._switches = [s for s in switches if s.removed_at is None]
            self._canary = running[-1] if running else None
            self._loaded = time.monotonic()

    def _fresh(self) -> None:
        if time.monotonic() - self._loaded > self.reload_s:
            self.reload()

    def active(self, canvas: str) -> list[Rule]:
        self._fresh()
        now = self.clock()
        return [r for r in self._rules if r.canvas in (canvas, "*") and r.active(now)]

    def environment(self, canvas: str) -> str | None:
        """The environment a switch forces on ``canvas`` now (the newest one wins)."""
        self._fresh()
        now = self.clock()
        found = [s for s in self._switches if s.canvas in (canvas, "*") and s.active(now)]
        return found[-1].environment if found else None

    def version_for(self, user: str | None) -> int | None:
        """The running canary's version when ``user`` falls in its share, else None."""
        self._fresh()
        canary = self._canary
        if canary is None or user is None:
            return None
        return canary.version if in_share(user, canary.id, canary.share) else None

    def apply(self, canvas: str, items: Items, k: int) -> tuple[Items, tuple[str, ...]]:
        rules = self.active(canvas)
        if not rules:
            return items, ()
        return rewrite(items, rules, k)


def in_share(user: str, salt: int, share: float) -> bool:
    """Whether a member falls in a split's share: a stable hash of their id, so a member
    sees one version for the whole canary."""
    digest = hashlib.blake2b(f"{salt}:{user}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64 < share


def rewrite(items: Items, rules: list[Rule], k: int) -> tuple[Items, tuple[str, ...]]:
    """The answer under ``rules`` and the ids of the rules that changed it."""
    applied: list[str] = []
    answer = list(items)
    for rule in rules:
        present = [i for i, _ in answer]
        if rule.action == "block" and rule.item in present:
            answer = [(i, s) for i, s in answer if i != rule.item]
        elif rule.action == "boost" and rule.item in present:
            answer = sorted(((i, s + rule.weight if i == rule.item else s) for i, s in answer),
                            key=lambda pair: -pair[1])
        elif rule.action == "pin" and (not present or present[0] != rule.item):
            top = answer[0][1] if answer else 0.0
            answer = [(rule.item, top)] + [(i, s) for i, s in answer if i != rule.item]
        else:
            continue
        applied.append(str(rule.id))
    return tuple(answer[:k]), tuple(applied)
