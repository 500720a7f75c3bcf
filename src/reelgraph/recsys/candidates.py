"""Which items a request may be answered with, by its canvas's rules.

A category request ranks only its category's items; a canvas that excludes what the user
saw drops every item of the user's history before the request; ``related`` drops its source.
"""

from __future__ import annotations

import numpy as np

from reelgraph.recsys.canvases import CANVASES
from reelgraph.recsys.requests import Requests
from reelgraph.recsys.timeline import Timeline


def allowed(requests: Requests, timeline: Timeline, category_matrix: np.ndarray,
            n_items: int) -> np.ndarray:
    """bool (requests, items): True where the item may be returned."""
    mask = np.ones((len(requests), n_items), dtype=bool)
    rules = {c.index: c for c in CANVASES}
    rows = np.arange(len(requests))
    for index, canvas in rules.items():
        mine = rows[requests.canvas == index]
        if not len(mine):
            continue
        if canvas.within_category:
            has = mine[requests.category[mine] >= 0]
            mask[has] &= category_matrix[requests.category[has]]
        if canvas.excludes_seen:
            seen = requests.take(mine).histories(timeline)
            mask[mine[seen.row_ids], seen.values] = False
        if canvas.excludes_source:
            has = mine[requests.source[mine] >= 0]
            mask[has, requests.source[has]] = False
    return mask
