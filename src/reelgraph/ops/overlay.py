"""The rule overlay: block, pin or boost items on a canvas, with an expiry, at serving time.

A hotfix with no retraining: ``Overlay`` is the ``AnswerRules`` the recommendation service
applies to every answer (``RecommendationService(ws, rules=overlay)``). Rules live in
``rg_ops_rule`` (who, when, why: the incident), are never deleted (removing one stamps
``removed_at``), and are re-read every ``reload_s`` seconds, so a rule written by another
process applies within that time. ``canvas="*"`` applies everywhere.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from reelgraph.ops.store import OpsStore, Rule

ACTIONS = ("block", "pin", "boost")
Items = tuple[tuple[str, float], ...]


class Overlay:
    def __init__(self, store: OpsStore, clock: Callable[[], float] = time.time,
                 reload_s: float = 5.0) -> None:
        self.store = store
        self.clock = clock
        self.reload_s = reload_s
        self._rules: list[Rule] = []
        self._loaded = float("-inf")
        self._lock = threading.Lock()

    def reload(self) -> None:
        rules = self.store.rules()
        with self._lock:
            self._rules = [r for r in rules if r.removed_at is None]
            self._loaded = time.monotonic()

    def active(self, canvas: str) -> list[Rule]:
        if time.monotonic() - self._loaded > self.reload_s:
            self.reload()
        now = self.clock()
        return [r for r in self._rules if r.canvas in (canvas, "*") and r.active(now)]

    def apply(self, canvas: str, items: Items, k: int) -> tuple[Items, tuple[str, ...]]:
        rules = self.active(canvas)
        if not rules:
            return items, ()
        return rewrite(items, rules, k)


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
