"""Requests to the model, column by column, and the examples built from them.

A request is what a canvas asks at a time: maybe a user (with their history: the timeline
positions ``history_start:history_end``, every event strictly before ``time``), maybe a
source item, a category, a query, and the canvas-specific context features known at
``time``. ``-1`` (or ``""`` for a query) means the request does not have that input.
Training pairs a request with one target item; evaluation with every relevant item.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from reelgraph.recsys.canvases import DENSE_FEATURES, Canvas
from reelgraph.recsys.ragged import Ragged, ranges
from reelgraph.recsys.timeline import Timeline

DAY = 86_400
NO_HISTORY_DAYS = 3650.0  # "days since the last event" of a user without one


@dataclass(frozen=True)
class Requests:
    canvas: np.ndarray  # int8, Canvas.index
    time: np.ndarray  # int64 unix seconds
    user: np.ndarray  # int32 dense user id or -1
    history_start: np.ndarray  # int64 timeline positions
    history_end: np.ndarray
    source: np.ndarray  # int32 item or -1
    category: np.ndarray  # int32 or -1
    query: tuple[str, ...]
    dense: np.ndarray  # float32 (n, len(DENSE_FEATURES))
    dense_mask: np.ndarray  # bool, same shape: which features this request has

    def __len__(self) -> int:
        return len(self.canvas)

    def take(self, rows: np.ndarray) -> Requests:
        rows = np.asarray(rows, dtype=np.int64)
        taken: dict[str, Any] = {f.name: _take(getattr(self, f.name), rows) for f in fields(self)}
        return Requests(**taken)

    @classmethod
    def concat(cls, parts: Sequence[Requests]) -> Requests:
        joined: dict[str, Any] = {f.name: _concat([getattr(p, f.name) for p in parts])
                                  for f in fields(cls)}
        return cls(**joined)

    @classmethod
    def build(cls, canvas: Canvas, timeline: Timeline, time: np.ndarray,
              user: np.ndarray | None = None, source: np.ndarray | None = None,
              category: np.ndarray | None = None, query: Sequence[str] | None = None
              ) -> Requests:
        """Requests of one canvas; histories and context features as known at ``time``."""
        n = len(time)
        time = np.asarray(time, dtype=np.int64)
        users = np.full(n, -1, np.int32) if user is None else np.asarray(user, np.int32)
        has_user = users >= 0
        start = np.where(has_user, timeline.start(np.maximum(users, 0)), 0)
        end = np.where(has_user, timeline.position(np.maximum(users, 0), time), 0)
        queries = tuple(query) if query is not None else ("",) * n
        dense, mask = context_features(canvas, timeline, users, start, end, time, queries)
        return cls(np.full(n, canvas.index, np.int8), time, users, start.astype(np.int64),
                   end.astype(np.int64),
                   np.full(n, -1, np.int32) if source is None else np.asarray(source, np.int32),
                   np.full(n, -1, np.int32) if category is None
                   else np.asarray(category, np.int32), queries, dense, mask)

    def histories(self, timeline: Timeline, last: int | None = None) -> Ragged:
        """Each request's history items (the ``last`` most recent, if given)."""
        start = self.history_start if last is None else np.maximum(
            self.history_start, self.history_end - last)
        return timeline_rows(timeline, start, self.history_end)


def timeline_rows(timeline: Timeline, start: np.ndarray, end: np.ndarray) -> Ragged:
    return Ragged.from_lengths(np.maximum(end - start, 0), timeline.items[ranges(start, end)])


def context_features(canvas: Canvas, timeline: Timeline, user: np.ndarray, start: np.ndarray,
                     end: np.ndarray, time: np.ndarray, query: Sequence[str]
                     ) -> tuple[np.ndarray, np.ndarray]:
    """The canvas's own context features at ``time`` (log-scaled); the rest masked out."""
    n = len(time)
    dense = np.zeros((n, len(DENSE_FEATURES)), dtype=np.float32)
    mask = np.zeros_like(dense, dtype=bool)
    has_history = end > start
    for name in canvas.features:
        column = DENSE_FEATURES.index(name)
        if name == "days_since_last_event":
            last = timeline.times[np.maximum(end - 1, 0)] if len(timeline.times) else 0
            days = np.where(has_history, (time - last) / DAY, NO_HISTORY_DAYS)
            dense[:, column] = np.log1p(np.maximum(days, 0.0))
        elif name == "events_last_30_days":
            since = timeline.position(np.maximum(user, 0), time - 30 * DAY)
            dense[:, column] = np.log1p(np.where(user >= 0, end - np.maximum(since, start), 0))
        elif name == "query_length":
            dense[:, column] = np.log1p([len(q) for q in query])
        mask[:, column] = True
    return dense, mask


@dataclass(frozen=True)
class TrainingExamples:
    requests: Requests
    target: np.ndarray  # int32 item
    target_time: np.ndarray  # int64: when the target interaction happened (0: timeless)

    def __len__(self) -> int:
        return len(self.target)

    def take(self, rows: np.ndarray) -> TrainingExamples:
        return TrainingExamples(self.requests.take(rows), self.target[rows],
                                self.target_time[rows])

    @classmethod
    def concat(cls, parts: Sequence[TrainingExamples]) -> TrainingExamples:
        return cls(Requests.concat([p.requests for p in parts]),
                   np.concatenate([p.target for p in parts]),
                   np.concatenate([p.target_time for p in parts]))


@dataclass(frozen=True)
class EvalExamples:
    requests: Requests
    relevant: Ragged  # the items that count as hits, per request

    def __len__(self) -> int:
        return len(self.relevant)

    def take(self, rows: np.ndarray) -> EvalExamples:
        return EvalExamples(self.requests.take(rows), self.relevant.take(rows))


def _take(value: object, rows: np.ndarray) -> object:
    if isinstance(value, tuple):
        return tuple(value[i] for i in rows)
    assert isinstance(value, np.ndarray)
    return value[rows]


def _concat(values: list[object]) -> object:
    if isinstance(values[0], tuple):
        return tuple(v for value in values for v in value)  # type: ignore[attr-defined]
    return np.concatenate(values)  # type: ignore[arg-type]

