"""Fixtures: the ml-latest-small slice (see recsys_samples) and its prepared tasks."""

from __future__ import annotations

import pytest
from recsys_samples import SMALL_CONFIG, small_dataset

from reelgraph.recsys.data import Dataset
from reelgraph.recsys.experiment import Fitted, Prepared, fit, prepare


@pytest.fixture(scope="session")
def small() -> Dataset:
    return small_dataset()


@pytest.fixture(scope="session")
def prepared(small: Dataset) -> Prepared:
    return prepare(small, SMALL_CONFIG)


@pytest.fixture(scope="session")
def fitted(prepared: Prepared) -> Fitted:
    """The unified model trained briefly on the slice."""
    return fit(prepared, SMALL_CONFIG)
