"""Every user's interactions in time order, and what was known about a user at a time.

User ``u``'s events are positions ``offsets[u]:offsets[u + 1]`` of ``items``/``times``,
sorted by time (events at the same second keep the log's order). ``position(users, times)``
is where "before time t" ends for each user: the user's history at ``t`` is
``items[offsets[u]:position]``, events strictly earlier than ``t``, so nothing at or after a
request's time is ever a feature of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from reelgraph.recsys.data import Interactions

_TIME_BITS = 34  # > 500 years of seconds; users take the bits above


@dataclass(frozen=True)
class Timeline:
    offsets: np.ndarray  # int64 (users + 1)
    items: np.ndarray  # int32
    times: np.ndarray  # int64
    origin: int  # the earliest time, so keys stay small

    @classmethod
    def of(cls, interactions: Interactions, n_users: int) -> Timeline:
        order = np.lexsort((interactions.time, interactions.user))  # stable
        offsets = np.zeros(n_users + 1, dtype=np.int64)
        np.cumsum(np.bincount(interactions.user, minlength=n_users), out=offsets[1:])
        origin = int(interactions.time.min()) if len(interactions) else 0
        return cls(offsets, interactions.item[order].astype(np.int32),
                   interactions.time[order].astype(np.int64), origin)

    @property
    def n_users(self) -> int:
        return len(self.offsets) - 1

    @property
    def users(self) -> np.ndarray:
        """The user of each position."""
        return np.repeat(np.arange(self.n_users, dtype=np.int32), np.diff(self.offsets))

    def _keys(self, users: np.ndarray, times: np.ndarray) -> np.ndarray:
        span = np.clip(np.asarray(times, dtype=np.int64) - self.origin, 0, (1 << _TIME_BITS) - 1)
        return (np.asarray(users, dtype=np.int64) << _TIME_BITS) | span

    def position(self, users: np.ndarray, times: np.ndarray) -> np.ndarray:
        """For each (user, time): the first of the user's positions at or after ``time``."""
        return np.searchsorted(self._sorted_keys, self._keys(users, times),
                               side="left").astype(np.int64)

    @cached_property
    def _sorted_keys(self) -> np.ndarray:
        return self._keys(self.users, self.times)

    def start(self, users: np.ndarray) -> np.ndarray:
        return self.offsets[np.asarray(users, dtype=np.int64)]

    def first_seen(self) -> np.ndarray:
        """For each position: when this user first interacted with this item."""
        users = self.users
        order = np.lexsort((self.times, self.items, users))
        pair = (users[order].astype(np.int64) << 32) | self.items[order]
        new = np.r_[True, pair[1:] != pair[:-1]]
        first = self.times[order][np.maximum.accumulate(np.where(new, np.arange(len(pair)), 0))]
        result = np.empty_like(self.times)
        result[order] = first
        return result

    def one_user(self, user: int, items: np.ndarray, times: np.ndarray) -> Timeline:
        """A timeline holding only ``user``'s events, with ``items`` at ``times`` added
        (``user`` may be one past the last, a user this timeline never saw): what a single
        request needs to see events that arrived after the timeline was built."""
        n_users = max(self.n_users, user + 1)
        own = slice(*self.offsets[user:user + 2]) if user < self.n_users else slice(0, 0)
        all_items = np.concatenate([self.items[own], np.asarray(items, dtype=np.int32)])
        all_times = np.concatenate([self.times[own], np.asarray(times, dtype=np.int64)])
        order = np.argsort(all_times, kind="stable")
        offsets = np.zeros(n_users + 1, dtype=np.int64)
        offsets[user + 1:] = len(order)
        return Timeline(offsets, all_items[order], all_times[order],
                        min(self.origin, int(all_times.min(initial=self.origin))))

    def before(self, time: int) -> Timeline:
        """The same users, keeping only events strictly before ``time``."""
        keep = self.times < time
        users = self.users[keep]
        offsets = np.zeros_like(self.offsets)
        np.cumsum(np.bincount(users, minlength=self.n_users), out=offsets[1:])
        return Timeline(offsets, self.items[keep], self.times[keep], self.origin)
