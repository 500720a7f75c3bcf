"""How much work the main job does: the small configuration (the default, a first run in a
few minutes) or the full one (``reelgraph demo --full``: every title embedded, the
recommender's full training budget, as the benchmarks use).

Both are the same paved road on the same data; the small one embeds only the most-rated
titles (the others reach the recommender with no text vector) and trains the unified
recommender on fewer examples for one epoch. Each configuration's runs are memoized apart,
so the two can share a home.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class DemoConfig:
    """How much work a demo run does: the titles it embeds and the recommender's training budget
    (small or full)."""
    name: str
    titles: int | None  # embed the N most-rated titles; None: every title
    recommender: dict[str, Any] = field(default_factory=dict)  # the training flow's params

    def describe(self) -> str:
        titles = "every title" if self.titles is None else f"the {self.titles:,} most-rated titles"
        budget = (", ".join(f"{k}={v:,}" for k, v in self.recommender.items())
                  or "its default training budget")
        return f"{self.name}: {titles} embedded; unified recommender with {budget}"


SMALL = DemoConfig("small", titles=1_000,
                   recommender={"epochs": 1, "max_train": 8_000, "max_eval": 1_000})
FULL = DemoConfig("full", titles=None)
