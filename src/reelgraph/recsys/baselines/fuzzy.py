"""Fuzzy title matching for search: the query against every plain title, with rapidfuzz.

score = partial_ratio + 0.5 * QRatio: the best substring alignment (forgives truncation
and extra words) with the whole-string similarity as a tie-break. The mix was picked on
training queries among rapidfuzz's scorers (WRatio, QRatio, token_set_ratio,
token_sort_ratio, partial_ratio), never on test ones. It ignores the user. Requests
without a query score 0 everywhere.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from rapidfuzz import fuzz, process

from reelgraph.recsys.requests import Requests
from reelgraph.recsys.text import plain, plain_title

WHOLE_STRING_WEIGHT = 0.5


class FuzzyTitles:
    def __init__(self, titles: Sequence[str]) -> None:
        self.titles = [plain_title(t) for t in titles]

    def scores(self, requests: Requests) -> np.ndarray:
        scores = np.zeros((len(requests), len(self.titles)), dtype=np.float32)
        rows = [i for i, q in enumerate(requests.query) if q]
        if rows:
            queries = [plain(requests.query[i]) for i in rows]
            scores[rows] = (
                process.cdist(queries, self.titles, scorer=fuzz.partial_ratio,
                              dtype=np.float32, workers=1)
                + WHOLE_STRING_WEIGHT * process.cdist(queries, self.titles, scorer=fuzz.QRatio,
                                                      dtype=np.float32, workers=1))
        return scores
