"""The synthetic controlled set: the candidate stage keeps the true frame and motion matches
(recall@10 >= 0.95), and the pipeline is memoized (a re-run computes nothing; a new title
computes only its own features and the pairs it takes part in)."""

from __future__ import annotations

from pathlib import Path

import pytest
from matchcut_samples import SHOTS, ControlledShot

from reelgraph.core import Settings
from reelgraph.flows import Workspace
from reelgraph.matchcut import FRAME, MOTION, CandidateConfig, MatchCutter
from reelgraph.matchcut.features import SHOT_FEATURES
from reelgraph.media import MediaLibrary


def _register(settings: Settings, paths: list[Path]) -> list:  # type: ignore[type-arg]
    with Workspace.open(settings) as ws:
        library = MediaLibrary(ws.graph)
        return [library.add(p) for p in paths]


def _recall(report, assets, truth: list[ControlledShot], kind: str) -> float:
    title_of = {a.checksum: t for t, a in enumerate(assets)}
    by_key = {f"{assets[s.title].checksum}:{s.index}": s for s in truth}
    found = {frozenset((p.shot_a, p.shot_b)) for p in report.pairs if p.kind == kind}
    attribute = "composition" if kind == FRAME else "motion"
    true_pairs = [frozenset((a, b)) for a in by_key for b in by_key
                  if a < b and by_key[a].title != by_key[b].title
                  and getattr(by_key[a], attribute) == getattr(by_key[b], attribute)]
    assert title_of and true_pairs
    return sum(pair in found for pair in true_pairs) / len(true_pairs)


@pytest.mark.slow
def test_candidates_keep_the_true_matches_of_the_controlled_set(
        settings: Settings, controlled: tuple[list[Path], list[ControlledShot]]) -> None:
    paths, truth = controlled
    assets = _register(settings, paths)
    with Workspace.open(settings) as ws:
        report = MatchCutter(ws, faces=False, config=CandidateConfig(k=10)).find(assets)
    assert not report.failed
    assert [len(t.shots) for t in report.titles] == [SHOTS] * len(paths)
    assert _recall(report, assets, truth, FRAME) >= 0.95
    assert _recall(report, assets, truth, MOTION) >= 0.95


@pytest.mark.slow
def test_a_rerun_computes_nothing_and_a_new_title_only_its_own(
        settings: Settings, controlled: tuple[list[Path], list[ControlledShot]]) -> None:
    paths, _ = controlled
    assets = _register(settings, paths[:2])
    with Workspace.open(settings) as ws:
        cutter = MatchCutter(ws, faces=False)
        first = cutter.find(assets)
        assert first.features_computed == len(SHOT_FEATURES) * 2 * SHOTS
        assert first.pairs_computed > 0
        again = cutter.find(assets)
        assert again.features_computed == 0 and again.pairs_computed == 0
        assert [p.id for p in again.pairs] == [p.id for p in first.pairs]

        new = _register(settings, paths[2:3])
        more = cutter.find(assets + new)
        assert more.features_computed == len(SHOT_FEATURES) * SHOTS  # only the new title's shots
        old_pairs = {frozenset((p.shot_a, p.shot_b)) for p in first.pairs}
        new_pairs = {frozenset((p.shot_a, p.shot_b)) for p in more.pairs} - old_pairs
        assert more.pairs_computed == len(new_pairs) > 0
        new_title = new[0].checksum
        assert all(any(key.startswith(new_title) for key in pair) for pair in new_pairs)
