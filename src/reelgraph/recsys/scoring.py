"""The trained network as a ``Scorer``: item vectors computed once, requests in batches."""

from __future__ import annotations

import copy

import numpy as np
import torch

from reelgraph.recsys.batch import Featurizer, ItemInputs
from reelgraph.recsys.model import UnifiedNet
from reelgraph.recsys.requests import Requests
from reelgraph.recsys.timeline import Timeline


class NetScorer:
    def __init__(self, net: UnifiedNet, featurize: Featurizer, items: ItemInputs) -> None:
        self.net = net.eval()
        self.featurize = featurize
        with torch.no_grad():
            self.item_vectors, self.titles = net.items(items)

    def on(self, timeline: Timeline) -> NetScorer:
        """The same network and item vectors, reading histories from ``timeline``."""
        other = copy.copy(self)
        other.featurize = self.featurize.on(timeline)
        return other

    def scores(self, requests: Requests) -> np.ndarray:
        with torch.no_grad():
            scores = self.net.score(self.featurize(requests), self.item_vectors, self.titles)
        return scores.numpy()
