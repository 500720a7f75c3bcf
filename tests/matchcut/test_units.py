"""Fast checks of the pieces: descriptors, IoU, top-K (exact against brute force, HNSW
against exact), near-duplicate grouping, adjacent-shot exclusion and bad settings."""

from __future__ import annotations

import numpy as np
import pytest

from reelgraph.core.errors import InvalidInput
from reelgraph.matchcut import CandidateConfig, ShotRecord, candidates, exact_top_k, top_k
from reelgraph.matchcut.descriptors import (
    END_MASK,
    END_MOTION,
    MOTION_DIM,
    START_MASK,
    START_MOTION,
    cut_ends,
    motion_histogram,
    soft_iou,
    subject_mask,
)


def _frame(x: int, y: int, shift: int = 0) -> np.ndarray:
    image = np.full((90, 160, 3), 60, np.uint8)
    image[y:y + 20, x + shift:x + shift + 30] = 230
    return image


def test_the_subject_mask_finds_where_the_subject_is() -> None:
    left, right = subject_mask([_frame(10, 30)]), subject_mask([_frame(120, 30)])
    assert soft_iou(left, subject_mask([_frame(12, 32)])) > soft_iou(left, right)
    assert soft_iou(np.zeros(4), np.zeros(4)) == 0.0


def test_motion_tells_directions_apart() -> None:
    rightwards = motion_histogram([_frame(40, 30, 4 * i) for i in range(4)])
    leftwards = motion_histogram([_frame(100, 30, -4 * i) for i in range(4)])
    still = motion_histogram([_frame(40, 30)] * 3)
    assert rightwards.shape == (MOTION_DIM,) and np.isclose(np.linalg.norm(rightwards), 1)
    assert rightwards @ motion_histogram([_frame(30, 50, 4 * i) for i in range(4)]) > \
        rightwards @ leftwards
    assert still @ motion_histogram([_frame(90, 10)] * 2) > 0.99


def test_cut_ends_describe_the_start_and_the_end_apart() -> None:
    # the subject sits left and moves right at the start, sits right and is still at the end
    frames = [_frame(10, 30, 4 * i) for i in range(3)] + [_frame(90, 30)] * 4
    ends = cut_ends(frames)
    assert np.isclose(soft_iou(ends[START_MASK], subject_mask(frames[:3])), 1.0)
    assert soft_iou(ends[END_MASK], subject_mask([_frame(90, 30)])) > \
        soft_iou(ends[START_MASK], subject_mask([_frame(90, 30)]))
    still = motion_histogram([_frame(90, 30)] * 3)
    assert ends[END_MOTION] @ still > 0.99 > ends[START_MOTION] @ still


@pytest.mark.parametrize(("block", "base_block"), [(1024, 8192), (7, 64), (3, 5)])
@pytest.mark.parametrize("prefilter", [True, False])
def test_tiled_top_k_matches_brute_force(block: int, base_block: int, prefilter: bool) -> None:
    rng = np.random.default_rng(1)
    base = rng.normal(size=(700, 8)).astype(np.float32)
    queries = base[rng.choice(700, 30, replace=False)]
    scores, found = exact_top_k(queries, base, 10, block=block, base_block=base_block,
                                prefilter=prefilter)
    full = queries @ base.T
    brute = np.argsort(-full, axis=1, kind="stable")[:, :10]
    assert (found == brute).all()
    assert np.allclose(scores, np.take_along_axis(full, brute, 1), atol=1e-5)
    # fewer base rows than k: every row, best first
    _, few = exact_top_k(queries, base[:4], 10, block=block, base_block=2, prefilter=prefilter)
    assert few.shape == (30, 4) and (few == np.argsort(-full[:, :4], axis=1)).all()


def test_exact_and_approximate_top_k() -> None:
    rng = np.random.default_rng(0)
    base = rng.normal(size=(500, 16)).astype(np.float32)
    base /= np.linalg.norm(base, axis=1, keepdims=True)
    scores, found = exact_top_k(base[:20], base, 5)
    brute = np.argsort(-(base[:20] @ base.T), axis=1)[:, :5]
    assert (found == brute).all() and (np.diff(scores, axis=1) <= 0).all()
    _, approx = top_k(base, 10, exact=False)
    _, exact = top_k(base, 10)
    assert np.mean([len(set(a) & set(e)) / 10 for a, e in zip(approx, exact, strict=True)]) > 0.9


def _shot(title: str, index: int, seconds: float = 2.0) -> ShotRecord:
    return ShotRecord(f"{title}:{index}", title, index, index * 10**10,
                      index * 10**10 + int(seconds * 1e9))


def test_candidates_drop_short_shots_duplicates_and_neighbours() -> None:
    shots = [_shot("a", 0), _shot("a", 1), _shot("a", 2), _shot("a", 3, seconds=3),
             _shot("b", 0), _shot("b", 1, seconds=0.2)]
    v = np.eye(6, dtype=np.float32)
    v[1] = v[0] + 0.05  # a:1 is just like a:0 (adjacent: never a pair)
    v[3] = v[2]  # a:3 is a near-duplicate of a:2 and longer: it represents the group
    v[4] = v[0] + v[3]  # b:0 is like a:0 and a:3
    v[5] = v[4]  # b:1 is like b:0 but too short
    pairs = {(shots[i].key, shots[j].key) for i, j, _ in
             candidates(shots, v, v, CandidateConfig(k=2))}
    assert ("a:0", "b:0") in pairs and ("a:3", "b:0") in pairs
    assert not any("a:2" in p or "b:1" in p for p in pairs)
    assert ("a:0", "a:1") not in pairs
    with pytest.raises(InvalidInput, match="k >= 1"):
        CandidateConfig(k=0)
