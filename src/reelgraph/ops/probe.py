"""A concurrent reference for latency: a fixed workload timed beside serving.

A request that takes 12 ms instead of 3 may mean a slow index or a machine shared with
other work; only the first is the recommender's incident. ``Probe`` times the same small
CPU workload every ``every_s`` seconds on a background thread of the serving process and
keeps the median of its last few timings; the impression log stamps it on every record, so
a check judges latency in probe units (a machine twice as loaded slows both alike), while a
component that waits (a sick host, a lock, a network hop) slows the requests only.
"""

from __future__ import annotations

import threading
import time
from collections import deque

import numpy as np

WORK = 20_000  # floats sorted per timing: about a millisecond on an idle core
KEEP = 5  # timings the median is taken over


class Probe:
    def __init__(self, every_s: float = 0.25) -> None:
        self.every_s = every_s
        self._data = np.random.default_rng(0).random(WORK)
        self._timings: deque[float] = deque(maxlen=KEEP)
        self._stop = threading.Event()
        self._timings.append(self.time_once())
        self._thread = threading.Thread(target=self._loop, name="reelgraph-probe",
                                        daemon=True)
        self._thread.start()

    def time_once(self) -> float:
        """Milliseconds the workload takes now."""
        started = time.perf_counter()
        np.sort(self._data, kind="quicksort")
        return (time.perf_counter() - started) * 1000

    @property
    def ms(self) -> float:
        """The median of the latest timings, in milliseconds."""
        return float(np.median(list(self._timings)))

    def _loop(self) -> None:
        while not self._stop.wait(self.every_s):
            self._timings.append(self.time_once())

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
