"""The evaluation's time split: one global cut-off for everyone.

The cut-off is the ``1 - holdout`` quantile of all interaction times (default: the last 20%
of interactions are held out). Models learn only from interactions strictly before it.
Test requests are made at or after it; each may use, as features, what its user did before
the request's own time (what a live system would know then), never anything later, and is
judged by what the user did after the request.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reelgraph.core import InvalidInput
from reelgraph.recsys.data import Interactions


@dataclass(frozen=True)
class TimeSplit:
    cutoff: int  # unix seconds: training data is strictly earlier
    holdout: float

    @classmethod
    def at_quantile(cls, interactions: Interactions, holdout: float = 0.2) -> TimeSplit:
        if not 0.0 < holdout < 1.0:
            raise InvalidInput(f"holdout {holdout} is not a fraction between 0 and 1",
                               "hold out e.g. 0.2 (the last 20% of interactions by time)")
        cutoff = int(np.quantile(interactions.time, 1.0 - holdout, method="higher"))
        return cls(cutoff, holdout)

    def is_train(self, times: np.ndarray) -> np.ndarray:
        return np.asarray(times) < self.cutoff

    def describe(self) -> str:
        return (f"global time split: train on interactions before {self.cutoff} (unix s), "
                f"test on the last {self.holdout:.0%} of interactions by time")
