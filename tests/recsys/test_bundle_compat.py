"""A stored recommender that does not fit the current model code is refused clearly."""

from __future__ import annotations

import pytest

from reelgraph.core.errors import Conflict, InvalidInput
from reelgraph.recsys import UnifiedRecommender
from reelgraph.recsys.experiment import Fitted


def test_a_bundle_from_other_model_code_names_the_fix(fitted: Fitted) -> None:
    bundle = fitted.recommender.to_bundle()
    state = dict(bundle["state"])
    state.pop("item_bias")  # as if saved by code without that parameter
    with pytest.raises(Conflict) as raised:
        UnifiedRecommender.from_bundle({**bundle, "state": state}, "m@3")
    assert "m@3" in raised.value.problem and "item_bias" in raised.value.problem
    assert "recsys train" in raised.value.fix
    with pytest.raises(Conflict):
        UnifiedRecommender.from_bundle({**bundle, "config": {**bundle["config"], "x": 1}})


def test_a_value_that_is_no_bundle_is_invalid() -> None:
    with pytest.raises(InvalidInput, match="not a unified recommender bundle"):
        UnifiedRecommender.from_bundle({"format": "something else"})
