"""Related items: a source item -> the items its watchers went on to watch.

A pair (source, target) is two events of one user where the target is one of the
``related_next`` events after the source, within ``related_gap_days`` of it, and another
item. Training pairs lie wholly before the cut-off; a test request's source event is at or
after it, and its relevant items are all of its targets. The request has no user.
"""

from __future__ import annotations

import numpy as np

from reelgraph.recsys.canvases import RELATED
from reelgraph.recsys.requests import EvalExamples, Requests, TrainingExamples
from reelgraph.recsys.tasks.inputs import DAY, TaskInputs, relevant_by_group

SALT = 11


def _pairs(inputs: TaskInputs, sources: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(source position, target position) for every valid pair from ``sources``."""
    timeline, config = inputs.timeline, inputs.config
    ends = timeline.offsets[inputs.users[sources].astype(np.int64) + 1]
    gap = config.related_gap_days * DAY
    found_s, found_t = [], []
    for step in range(1, config.related_next + 1):
        targets = sources + step
        ok = targets < ends
        s, t = sources[ok], targets[ok]
        ok = ((timeline.times[t] - timeline.times[s] <= gap)
              & (timeline.items[t] != timeline.items[s]))
        found_s.append(s[ok])
        found_t.append(t[ok])
    return np.concatenate(found_s), np.concatenate(found_t)


def training(inputs: TaskInputs) -> TrainingExamples:
    timeline, cutoff = inputs.timeline, inputs.split.cutoff
    s, t = _pairs(inputs, np.flatnonzero(timeline.times < cutoff))
    before = timeline.times[t] < cutoff
    rows = inputs.sample(np.flatnonzero(before), inputs.config.max_train, SALT)
    s, t = s[rows], t[rows]
    requests = Requests.build(RELATED, timeline, timeline.times[s], source=timeline.items[s])
    return TrainingExamples(requests, timeline.items[t], timeline.times[t])


def evaluation(inputs: TaskInputs) -> EvalExamples:
    timeline = inputs.timeline
    s, t = _pairs(inputs, np.flatnonzero(timeline.times >= inputs.split.cutoff))
    sources = np.unique(s)
    rows = inputs.evaluation_rows(np.arange(len(sources)), inputs.users[sources], SALT + 1)
    chosen = sources[rows]
    relevant = relevant_by_group(s, timeline.items[t], chosen)
    requests = Requests.build(RELATED, timeline, timeline.times[chosen],
                              source=timeline.items[chosen])
    return EvalExamples(requests, relevant)
