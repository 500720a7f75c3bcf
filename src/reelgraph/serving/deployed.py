"""One model version made ready to serve: the recommender and its item index.

Built off the request path (loading, item vectors, index), then swapped in as a whole, so
a request sees one version from start to end. Everything here is NumPy: the model is reached
only through ``UnifiedRecommender``'s public methods.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reelgraph.features import InnerProductIndex
from reelgraph.recsys import Recommendations, RecommendRequest, UnifiedRecommender


@dataclass(frozen=True)
class Deployed:
    recommender: UnifiedRecommender
    index: InnerProductIndex
    version: int | None  # the registry's version number; None for an unregistered model

    @classmethod
    def of(cls, recommender: UnifiedRecommender, version: int | None = None) -> Deployed:
        return cls(recommender, InnerProductIndex(recommender.item_vectors()), version)

    @property
    def model_version(self) -> str:
        return self.recommender.model_version

    def answer_online(self, request: RecommendRequest) -> Recommendations:
        """Score one request now: its request vector's nearest items in the index (a
        request with events newer than the model: by full ranking over its own history)."""
        recommender = self.recommender
        if request.timeline is not None:
            return recommender.answer(request)
        items, scores = self.index.search(recommender.request_vector(request), request.k,
                                          recommender.allowed_items(request))
        return recommender.answered(request, items, scores.astype(np.float64))

    def answer_popular(self, request: RecommendRequest) -> Recommendations:
        """The fallback answer, no model scoring: the items the canvas allows, most
        interacted with (before the model's cut-off) first."""
        recommender = self.recommender
        allowed = recommender.allowed_items(request)
        popularity = recommender.items.popularity
        counts = (np.zeros(len(allowed)) if popularity is None
                  else popularity[:, 0].astype(np.float64))
        chosen = np.flatnonzero(allowed)
        top = chosen[np.argsort(-counts[chosen], kind="stable")[:request.k]]
        return recommender.answered(request, top, counts[top])
