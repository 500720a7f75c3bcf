"""Notifications: a user at a time -> the few unseen items most worth a notification.

Requests are made at the start of each ``window_days`` window (``TaskInputs.windows``) to
every user with history before it and activity in it; the items new to the user in the
window are what the notification should have offered. Only what is known at the window's
start is used: the history before it and the context features at it. Training windows end
by the cut-off (one example per target item, at most ``notification_targets``); test
windows start at or after it.
"""

from __future__ import annotations

import numpy as np

from reelgraph.recsys.canvases import NOTIFICATIONS
from reelgraph.recsys.requests import EvalExamples, Requests, TrainingExamples
from reelgraph.recsys.tasks.inputs import TaskInputs, relevant_by_group

SALT = 41


def _groups(inputs: TaskInputs, test: bool
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(positions, group of each, (user, start) of each group)."""
    positions, starts = inputs.windows(test)
    keys = np.stack([inputs.users[positions].astype(np.int64), starts], axis=1)
    requests_keys, group = np.unique(keys, axis=0, return_inverse=True)
    return positions, group.reshape(-1), requests_keys


def training(inputs: TaskInputs) -> TrainingExamples:
    timeline = inputs.timeline
    positions, group, keys = _groups(inputs, test=False)
    rows = inputs.per_user(np.arange(len(positions)), group.astype(np.int32),
                           inputs.config.notification_targets, SALT)
    rows = inputs.sample(rows, inputs.config.max_train, SALT + 1)
    positions, group = positions[rows], group[rows]
    requests = Requests.build(NOTIFICATIONS, timeline, keys[group, 1], user=keys[group, 0])
    return TrainingExamples(requests, timeline.items[positions], timeline.times[positions])


def evaluation(inputs: TaskInputs) -> EvalExamples:
    timeline = inputs.timeline
    positions, group, keys = _groups(inputs, test=True)
    rows = inputs.evaluation_rows(np.arange(len(keys)), keys[:, 0].astype(np.int32), SALT + 2)
    relevant = relevant_by_group(group, timeline.items[positions], rows)
    chosen = keys[rows]
    requests = Requests.build(NOTIFICATIONS, timeline, chosen[:, 1], user=chosen[:, 0])
    return EvalExamples(requests, relevant)
