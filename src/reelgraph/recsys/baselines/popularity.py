"""Popularity: every request gets the items with the most interactions before the cut-off.

``Popularity.fit`` counts all of them; ``Popularity.recent`` only those of the last
``days`` before the cut-off (on a time split what is popular lately predicts the test weeks
far better, and beats many neural sequence models), ties broken by the all-time count.
"""

from __future__ import annotations

import numpy as np

from reelgraph.recsys.requests import DAY, Requests
from reelgraph.recsys.timeline import Timeline

RECENT_DAYS = 7.0
TIE_BREAK = 1e-6


class Popularity:
    def __init__(self, counts: np.ndarray) -> None:
        self.counts = counts.astype(np.float64)  # keeps a 1e-6 tie-break

    @classmethod
    def fit(cls, timeline: Timeline, cutoff: int, n_items: int) -> Popularity:
        return cls(np.bincount(timeline.items[timeline.times < cutoff], minlength=n_items))

    @classmethod
    def recent(cls, timeline: Timeline, cutoff: int, n_items: int,
               days: float = RECENT_DAYS) -> Popularity:
        """The most popular items of the ``days`` before ``cutoff``."""
        before = timeline.times < cutoff
        lately = before & (timeline.times >= cutoff - days * DAY)
        counts = np.bincount(timeline.items[before], minlength=n_items).astype(np.float64)
        recent = np.bincount(timeline.items[lately], minlength=n_items).astype(np.float64)
        return cls(recent + TIE_BREAK * counts / max(float(counts.max(initial=0.0)), 1.0))

    def scores(self, requests: Requests) -> np.ndarray:
        return np.broadcast_to(self.counts, (len(requests), len(self.counts))).copy()
