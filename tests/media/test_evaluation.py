"""score_cuts: precision, recall and F1 with a frame tolerance and one-to-one matching."""

from __future__ import annotations

import pytest

from reelgraph.core.errors import InvalidInput
from reelgraph.media import CutScore, score_cuts


def test_perfect_and_empty() -> None:
    assert score_cuts([10, 20], [10, 20]).f1 == 1.0
    nothing = score_cuts([], [])
    assert (nothing.precision, nothing.recall, nothing.f1) == (1.0, 1.0, 1.0)
    assert score_cuts([], [5]).f1 == 0.0
    assert score_cuts([5], []).precision == 0.0


def test_tolerance_is_inclusive() -> None:
    assert score_cuts([12], [10]).true_positives == 1
    assert score_cuts([8], [10]).true_positives == 1
    assert score_cuts([13], [10]) == CutScore(0, 1, 1)
    assert score_cuts([11], [10], tolerance=0) == CutScore(0, 1, 1)


def test_matching_is_one_to_one() -> None:
    assert score_cuts([9, 11], [10]) == CutScore(1, 1, 0)
    assert score_cuts([10], [9, 11]) == CutScore(1, 0, 1)
    # a sweep that paired 3 with 5 would lose a match; the optimum pairs 1-3 and 3-5
    assert score_cuts([1, 3], [3, 5]) == CutScore(2, 0, 0)
    assert score_cuts([4, 6], [5, 7]) == CutScore(2, 0, 0)


def test_scores() -> None:
    score = score_cuts([10, 30, 50, 70], [10, 31, 90])
    assert score == CutScore(2, 2, 1)
    assert score.precision == 0.5 and score.recall == pytest.approx(2 / 3)
    assert score.f1 == pytest.approx(2 * 0.5 * (2 / 3) / (0.5 + 2 / 3))
    assert (score + CutScore(1, 0, 0)) == CutScore(3, 2, 1)
    assert score.to_dict()["false_positives"] == 2


def test_ignored_ranges_are_neither_right_nor_wrong() -> None:
    assert score_cuts([20, 31, 100], [100], ignore=[(6, 29)]) == CutScore(1, 0, 0)
    assert score_cuts([32, 100], [100], ignore=[(6, 29)]) == CutScore(1, 1, 0)


def test_negative_tolerance() -> None:
    with pytest.raises(InvalidInput):
        score_cuts([1], [1], tolerance=-1)
