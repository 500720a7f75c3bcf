"""Category rows: a user and a category -> the user's ranking of that category's items.

Training: each event before the cut-off, once per category of its item, is a request at the
event's time (history: strictly earlier events) whose target is the item. Test: for each
notification window after the cut-off (see ``TaskInputs.windows``) and each category of the
items new to the user in it, the relevant items are those items of the category.
"""

from __future__ import annotations

import numpy as np

from reelgraph.recsys.canvases import CATEGORY
from reelgraph.recsys.ragged import ranges
from reelgraph.recsys.requests import EvalExamples, Requests, TrainingExamples
from reelgraph.recsys.tasks.inputs import TaskInputs, relevant_by_group

SALT = 21


def _by_category(inputs: TaskInputs, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(position, category) for each category of each position's item."""
    categories = inputs.dataset.catalog.categories
    items = inputs.timeline.items[positions]
    starts, ends = categories.offsets[items], categories.offsets[items + 1]
    return (np.repeat(positions, ends - starts),
            categories.values[ranges(starts, ends)].astype(np.int32))


def training(inputs: TaskInputs) -> TrainingExamples:
    timeline = inputs.timeline
    positions, category = _by_category(
        inputs, np.flatnonzero(timeline.times < inputs.split.cutoff))
    rows = inputs.sample(np.arange(len(positions)), inputs.config.max_train, SALT)
    positions, category = positions[rows], category[rows]
    requests = Requests.build(CATEGORY, timeline, timeline.times[positions],
                              user=inputs.users[positions], category=category)
    return TrainingExamples(requests, timeline.items[positions], timeline.times[positions])


def evaluation(inputs: TaskInputs) -> EvalExamples:
    timeline = inputs.timeline
    positions, starts = inputs.windows(test=True)
    start_of = dict(zip(positions.tolist(), starts.tolist(), strict=True))
    positions, category = _by_category(inputs, positions)
    starts = np.array([start_of[p] for p in positions.tolist()], dtype=np.int64)
    users = inputs.users[positions]
    keys = np.stack([users.astype(np.int64), starts, category.astype(np.int64)], axis=1)
    requests_keys, group = np.unique(keys, axis=0, return_inverse=True)
    group = group.reshape(-1)
    rows = inputs.evaluation_rows(np.arange(len(requests_keys)),
                                  requests_keys[:, 0].astype(np.int32), SALT + 1)
    relevant = relevant_by_group(group, timeline.items[positions], rows)
    chosen = requests_keys[rows]
    requests = Requests.build(CATEGORY, timeline, chosen[:, 1], user=chosen[:, 0],
                              category=chosen[:, 2])
    return EvalExamples(requests, relevant)
