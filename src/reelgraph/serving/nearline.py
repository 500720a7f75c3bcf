"""Precomputed answers in the online store, each with the time it was computed.

One table-valued entry per (model version, canvas, serving key) and one ``computed_at``
(unix seconds) beside it; both are read in one call. Entries are keyed by the model
version, so a newly swapped-in version never serves its predecessor's answers, and a
rollback finds its own answers still there.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from reelgraph.features import FeatureRef, OnlineStore
from reelgraph.recsys import ScoredBatch

NAMESPACE = "recs"
ENTITY = "serving_key"


@dataclass(frozen=True)
class Precomputed:
    items: list[tuple[str, float]]  # best first
    computed_at: float  # unix seconds


def _refs(model: str, version: int, canvas: str) -> tuple[FeatureRef, FeatureRef]:
    name = f"{model.replace('/', '.')}.{canvas}"
    return (FeatureRef(NAMESPACE, name, f"v{version}", ENTITY, {"kind": "table"}),
            FeatureRef(NAMESPACE, f"{name}.computed_at", f"v{version}", ENTITY,
                       {"kind": "scalar", "dtype": "float64"}))


class NearlineStore:
    def __init__(self, store: OnlineStore, model: str) -> None:
        self.store = store
        self.model = model

    def write(self, version: int, canvas: str, batch: ScoredBatch,
              computed_at: float | None = None) -> None:
        answers, stamps = _refs(self.model, version, canvas)
        at = time.time() if computed_at is None else computed_at
        self.store.put(answers, {
            key: [{"item": i, "score": s} for i, s in zip(items, scores, strict=True)]
            for key, items, scores in zip(batch.keys, batch.items, batch.scores, strict=True)})
        # The stamp goes second: a reader between the two writes sees new answers with an
        # older stamp (at worst recomputed online), never old answers called fresh.
        self.store.put(stamps, dict.fromkeys(batch.keys, at))

    def read(self, version: int, canvas: str, key: str) -> Precomputed | None:
        answers, stamps = self.store.read(_refs(self.model, version, canvas), [key])
        rows: list[dict[str, Any]] | None = answers.get(key)
        at = stamps.get(key)
        if rows is None or at is None:
            return None
        return Precomputed([(r["item"], float(r["score"])) for r in rows], float(at))

    def freshness(self, version: int, canvas: str) -> tuple[int, float | None]:
        """(answers stored, the oldest one's time) for a version's canvas."""
        stamps = _refs(self.model, version, canvas)[1]
        keys = sorted(self.store.keys(stamps))
        found = self.store.get(stamps, keys) if keys else {}
        return len(found), min(found.values(), default=None)
