"""What every canvas's example generator starts from, and the limits it keeps to."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from reelgraph.recsys.data import Dataset
from reelgraph.recsys.queries import NoiseModel
from reelgraph.recsys.ragged import Ragged
from reelgraph.recsys.split import TimeSplit
from reelgraph.recsys.timeline import Timeline

DAY = 86_400


@dataclass(frozen=True)
class TaskConfig:
    seed: int = 0
    max_train: int = 25_000  # training examples per canvas (a seeded sample beyond that)
    max_eval: int = 2_000  # evaluation requests per canvas
    per_user_eval: int = 10  # evaluation requests per user, at most
    related_next: int = 10  # the next items after a source that count as "went on to watch"
    related_gap_days: float = 30.0  # ... if within this many days of it
    window_days: float = 7.0  # notification (and category test) windows
    notification_targets: int = 20  # target items per training notification, at most
    catalog_queries: int = 1  # anonymous training queries per catalog item
    train_query_seed: int = 1
    test_query_seed: int = 2
    noise: NoiseModel = field(default_factory=NoiseModel)


@dataclass(frozen=True)
class TaskInputs:
    """The dataset, its timeline (all events, train and test) and the time split."""

    dataset: Dataset
    timeline: Timeline
    split: TimeSplit
    config: TaskConfig

    @cached_property
    def users(self) -> np.ndarray:
        return self.timeline.users

    @cached_property
    def first_seen(self) -> np.ndarray:
        return self.timeline.first_seen()

    @cached_property
    def tags(self) -> Ragged:
        """Each item's tags known before the cut-off."""
        return self.dataset.catalog.tags_before(self.split.cutoff)

    def tag_names(self, item: int) -> list[str]:
        names = self.dataset.catalog.tag_names
        return [names[t] for t in self.tags.row(item)]

    def rng(self, salt: int) -> np.random.Generator:
        return np.random.default_rng([self.config.seed, salt])

    def sample(self, rows: np.ndarray, limit: int, salt: int) -> np.ndarray:
        """At most ``limit`` of ``rows`` (seeded), in their original order."""
        if len(rows) <= limit:
            return rows
        return np.sort(self.rng(salt).choice(rows, size=limit, replace=False))

    def per_user(self, rows: np.ndarray, users: np.ndarray, limit: int, salt: int
                 ) -> np.ndarray:
        """At most ``limit`` rows per user (seeded), in their original order."""
        shuffled = self.rng(salt).permutation(len(rows))
        order = shuffled[np.argsort(users[shuffled], kind="stable")]
        sorted_users = users[order]
        first = np.searchsorted(sorted_users, sorted_users, side="left")
        keep = order[(np.arange(len(order)) - first) < limit]
        return rows[np.sort(keep)]

    def evaluation_rows(self, rows: np.ndarray, users: np.ndarray, salt: int) -> np.ndarray:
        capped = self.per_user(rows, users, self.config.per_user_eval, salt)
        return self.sample(capped, self.config.max_eval, salt + 1)

    def windows(self, test: bool) -> tuple[np.ndarray, np.ndarray]:
        """Notification windows: (positions, window starts) of each event in a window that
        is new to its user at the window's start, from a user with history before it.

        Windows tile time in ``window_days`` from the cut-off: forwards for test, backwards
        for training, so a training window (and its targets) ends by the cut-off.
        """
        width = int(self.config.window_days * DAY)
        times, cutoff = self.timeline.times, self.split.cutoff
        if test:
            positions = np.flatnonzero(times >= cutoff)
            starts = cutoff + (times[positions] - cutoff) // width * width
        else:
            positions = np.flatnonzero(times < cutoff)
            starts = cutoff - ((cutoff - 1 - times[positions]) // width + 1) * width
        users = self.users[positions]
        new = self.first_seen[positions] >= starts
        has_history = self.timeline.position(users, starts) > self.timeline.start(users)
        keep = new & has_history
        return positions[keep], starts[keep]


def relevant_by_group(group: np.ndarray, items: np.ndarray, chosen: np.ndarray) -> Ragged:
    """The distinct ``items`` of each group in ``chosen`` (sorted group ids), in its order."""
    keep = np.isin(group, chosen)
    return Ragged.from_pairs(np.searchsorted(chosen, group[keep]), items[keep],
                             len(chosen)).unique_rows()
