"""Cold start before launch: how much exposure will an item get that has metadata but no
interactions yet?

The production model scores any catalog item from its content (categories, tags, title,
item vectors) even with no plays, so its exposure can be predicted before launch: replay a
sample of recent logged requests through serving's own path with a larger ``k`` and count
how often each launch lands in the top ``k``. A launch predicted to get no exposure is
flagged, as are launches far below similar past launches (same first category), before
they go live.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import pyarrow as pa

    from reelgraph.ops.operations import RecSysOps


@dataclass(frozen=True)
class LaunchForecast:
    item: str
    predicted_exposure: int  # top-k appearances over the replayed requests
    requests: int
    flagged: bool  # predicted to be neglected

    def to_dict(self) -> dict[str, Any]:
        return {"item": self.item, "predicted_exposure": self.predicted_exposure,
                "requests": self.requests, "flagged": self.flagged}


def launches(ops: RecSysOps) -> list[str]:
    """The production model's items with no interactions before its cut-off."""
    recommender = ops.recommender(ops.production_version())
    popularity = recommender.items.popularity
    if popularity is None:
        return []
    ids = recommender.vocabulary.item_ids
    return [ids[i] for i in np.flatnonzero(popularity[:, 0] == 0)]


def forecast(ops: RecSysOps, impressions: pa.Table, items: list[str] | None = None,
             k: int = 10, sample: int = 300, seed: int = 0) -> list[LaunchForecast]:
    """Predicted exposure of ``items`` (default: every launch) under the production model,
    from a sample of the logged requests in ``impressions``."""
    from reelgraph.ops.replay import answer

    chosen = set(items if items is not None else launches(ops))
    rows = [r for r in impressions.to_pylist() if r["error"] is None]
    if not rows or not chosen:
        return []
    picked = np.random.default_rng(seed).choice(len(rows), min(sample, len(rows)),
                                                replace=False)
    version = ops.production_version()
    counts: Counter[str] = Counter()
    for i in picked:
        found = answer(ops, {**rows[i], "k": k}, version)
        counts.update(item for item, _ in found if item in chosen)
    return sorted((LaunchForecast(item, counts[item], len(picked), counts[item] == 0)
                   for item in chosen), key=lambda f: (f.predicted_exposure, f.item))
