"""One model version made ready to serve: the recommender and its item index.

Built off the request path (loading, item vectors, index), then swapped in as a whole, so
a request sees one version from start to end.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from reelgraph.recsys.candidates import allowed
from reelgraph.recsys.recommender import Recommendations, Request, UnifiedRecommender
from reelgraph.serving.index import ItemIndex


@dataclass(frozen=True)
class Deployed:
    recommender: UnifiedRecommender
    index: ItemIndex
    version: int | None  # the registry's version number; None for an unregistered model

    @classmethod
    def of(cls, recommender: UnifiedRecommender, version: int | None = None) -> Deployed:
        scorer = recommender.scorer
        with torch.no_grad():
            item_side = recommender.net.item_side(scorer.item_vectors, scorer.titles)
        return cls(recommender, ItemIndex(item_side.numpy()), version)

    @property
    def model_version(self) -> str:
        return self.recommender.model_version

    def answer_online(self, request: Request) -> Recommendations:
        """Score one request now: its request vector's nearest items in the index (a
        request with events newer than the model: by full ranking over its own history)."""
        recommender = self.recommender
        if request.timeline is not None:
            return recommender.answer(request)
        scorer = recommender.scorer
        with torch.no_grad():
            left = recommender.net.request_side(scorer.featurize(request.requests),
                                                scorer.item_vectors)
        mask = allowed(request.requests, recommender.timeline,
                       recommender.items.category_matrix, len(self.index))[0]
        items, scores = self.index.search(left.numpy(), request.k, mask)
        return recommender.answered(request, items, scores.astype(np.float64))
