"""Cold start before launch: how much exposure will an item get that has metadata but no
interactions yet?

The production model scores any catalog item from its content (categories, tags, title,
item vectors) even with no plays, so its exposure can be predicted before launch: replay a
sample of recent logged requests through serving's own path with a larger ``k`` and count
how often each launch lands in the top ``k``. A launch predicted to get no exposure is
flagged before it goes live.

The count is zero for most launches of a big catalog, so it cannot rank them; beside it
``expected_exposure`` sums, over the replayed requests, the position discount
``1 / log2(rank + 1)`` of the launch's rank among the items the request allows (the
exposure model of DCG): a real ranking of every launch, however deep.
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
    expected_exposure: float  # summed position discount of its rank, over the requests
    flagged: bool  # predicted to be neglected

    def to_dict(self) -> dict[str, Any]:
        return {"item": self.item, "predicted_exposure": self.predicted_exposure,
                "expected_exposure": self.expected_exposure, "requests": self.requests,
                "flagged": self.flagged}


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
    index = ops.recommender(version).vocabulary.item_index
    wanted = np.array(sorted(index[i] for i in chosen if i in index), dtype=np.int64)
    expected = np.zeros(len(wanted))
    vectors = ops.recommender(version).item_vectors()
    for i in picked:
        found = answer(ops, {**rows[i], "k": k}, version)
        counts.update(item for item, _ in found if item in chosen)
        expected += _discounts(ops, rows[i], version, vectors, wanted)
    by_item = dict(zip((ops.recommender(version).vocabulary.item_ids[j] for j in wanted),
                       expected.tolist(), strict=True))
    return sorted((LaunchForecast(item, counts[item], len(picked), by_item.get(item, 0.0),
                                  counts[item] == 0)
                   for item in chosen), key=lambda f: (f.expected_exposure, f.item))


def _discounts(ops: RecSysOps, row: dict[str, Any], version: int, vectors: np.ndarray,
               wanted: np.ndarray) -> np.ndarray:
    """Each wanted item's position discount in the full ranking of one logged request."""
    import json

    recommender = ops.recommender(version)
    request = recommender.request(
        row["canvas"], user=row["user"], item=row["item"], query=row["query"],
        category=row["category"], k=int(row["k"]),
        context=json.loads(row["context"] or "{}"))
    scores = vectors @ recommender.request_vector(request)
    scores = np.where(recommender.allowed_items(request), scores, -np.inf)
    ordered = np.sort(scores)[::-1]
    ranks = np.searchsorted(-ordered, -scores[wanted], side="left") + 1
    discount: np.ndarray = np.where(np.isfinite(scores[wanted]),
                                    1.0 / np.log2(ranks + 1.0), 0.0)
    return discount
