"""Popularity: every request gets the items with the most interactions before the cut-off."""

from __future__ import annotations

import numpy as np

from reelgraph.recsys.requests import Requests
from reelgraph.recsys.timeline import Timeline


class Popularity:
    def __init__(self, counts: np.ndarray) -> None:
        self.counts = counts.astype(np.float32)

    @classmethod
    def fit(cls, timeline: Timeline, cutoff: int, n_items: int) -> Popularity:
        return cls(np.bincount(timeline.items[timeline.times < cutoff], minlength=n_items))

    def scores(self, requests: Requests) -> np.ndarray:
        return np.broadcast_to(self.counts, (len(requests), len(self.counts))).copy()
