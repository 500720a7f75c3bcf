"""The two recommenders the serving and ops tests serve: brief trainings of the
ml-latest-small slice (``recsys_samples``) with seeds 0 and 1, trained once per test run
(``once``: shared by pytest-xdist workers). Import the fixture into a conftest."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from once import once_per_run
from recsys_samples import SMALL_CONFIG, small_dataset

from reelgraph.recsys import UnifiedRecommender
from reelgraph.recsys.experiment import fit, prepare
from reelgraph.recsys.hyperparameters import TrainConfig


def _train_two() -> tuple[dict[str, Any], dict[str, Any]]:
    prepared = prepare(small_dataset(), SMALL_CONFIG)
    first = fit(prepared, SMALL_CONFIG).recommender
    second_config = replace(SMALL_CONFIG, train=TrainConfig(epochs=1, negatives=512, seed=1))
    return first.to_bundle(), fit(prepared, second_config).recommender.to_bundle()


@pytest.fixture(scope="session")
def recommenders(tmp_path_factory: pytest.TempPathFactory
                 ) -> tuple[UnifiedRecommender, UnifiedRecommender]:
    """Two briefly trained models of the slice (seeds 0 and 1), as stored bundles reload."""
    first, second = once_per_run(tmp_path_factory, "recommenders", _train_two)
    return UnifiedRecommender.from_bundle(first), UnifiedRecommender.from_bundle(second)
