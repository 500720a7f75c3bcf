"""Search: a query that may be partial or misspelt (and maybe a user) -> the item meant.

Queries are synthesised by ``queries.NoiseModel``. Training: a query per sampled event
before the cut-off (the user searched for what they then watched, with the history before
it) plus ``catalog_queries`` anonymous queries per catalog item, all with the training
seed. Test: a query per sampled event at or after the cut-off with the test seed, redrawn
until its (item, text) pair is not one training holds; events whose queries all collide are
dropped. Every test query text is therefore new for its item.
"""

from __future__ import annotations

import numpy as np

from reelgraph.recsys.canvases import SEARCH
from reelgraph.recsys.queries import Query, held_apart
from reelgraph.recsys.ragged import Ragged
from reelgraph.recsys.requests import EvalExamples, Requests, TrainingExamples
from reelgraph.recsys.tasks.inputs import TaskInputs

SALT = 31
CATALOG_VARIANTS = 1 << 40  # catalog queries' variant numbers start here (events' below)


def training_queries(inputs: TaskInputs) -> tuple[np.ndarray, list[Query]]:
    """The positions of the sampled training events and every training query (the events'
    first, then the catalog's)."""
    timeline, config = inputs.timeline, inputs.config
    titles = inputs.dataset.catalog.titles
    positions = inputs.sample(np.flatnonzero(timeline.times < inputs.split.cutoff),
                              config.max_train, SALT)
    seed = config.train_query_seed
    queries = [config.noise.query(seed, item, p, titles[item], inputs.tag_names(item))
               for p, item in zip(positions.tolist(), timeline.items[positions].tolist(),
                                  strict=True)]
    queries += [config.noise.query(seed, item, CATALOG_VARIANTS + v, titles[item],
                                   inputs.tag_names(item))
                for item in range(inputs.dataset.n_items) for v in range(config.catalog_queries)]
    return positions, queries


def training(inputs: TaskInputs) -> TrainingExamples:
    timeline = inputs.timeline
    positions, queries = training_queries(inputs)
    events = len(positions)
    users = np.r_[inputs.users[positions], np.full(len(queries) - events, -1, np.int32)]
    times = np.r_[timeline.times[positions], np.zeros(len(queries) - events, np.int64)]
    requests = Requests.build(SEARCH, timeline, times, user=users,
                              query=[q.text for q in queries])
    return TrainingExamples(requests, np.array([q.item for q in queries], dtype=np.int32),
                            times)


def evaluation(inputs: TaskInputs, training_pairs: set[tuple[int, str]]) -> EvalExamples:
    timeline, config = inputs.timeline, inputs.config
    titles = inputs.dataset.catalog.titles
    candidates = np.flatnonzero(timeline.times >= inputs.split.cutoff)
    positions = inputs.evaluation_rows(candidates, inputs.users[candidates], SALT + 1)
    found = [(p, held_apart(config.noise, config.test_query_seed, item, titles[item],
                            inputs.tag_names(item), training_pairs, first_variant=p * 8))
             for p, item in zip(positions.tolist(), timeline.items[positions].tolist(),
                                strict=True)]
    kept = [(p, q) for p, q in found if q is not None]
    chosen = np.array([p for p, _ in kept], dtype=np.int64)
    requests = Requests.build(SEARCH, timeline, timeline.times[chosen],
                              user=inputs.users[chosen], query=[q.text for _, q in kept])
    return EvalExamples(requests, Ragged.from_rows([[q.item] for _, q in kept]))
