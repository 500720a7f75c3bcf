"""The learned scorer and the triggered flow: heuristics rank until labels exist; labels from
reviews train a classifier registered with lineage to them, which then ranks; a worker runs
the title flow once per new asset and a second delivery computes nothing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from matchcut_samples import ControlledShot

from reelgraph.core import Settings
from reelgraph.features import FeatureStore
from reelgraph.flows import Worker, Workspace
from reelgraph.matchcut import FRAME, LabelSet, MatchCutter, register_titles, retrain, title_flow
from reelgraph.matchcut.features import ShotFeatures, matchcut_features
from reelgraph.matchcut.learning import LABELS, MODEL


@pytest.mark.slow
def test_labels_train_a_registered_scorer_that_then_ranks(
        settings: Settings, controlled: tuple[list[Path], list[ControlledShot]]) -> None:
    paths, truth = controlled
    with Workspace.open(settings) as ws:
        assets, failed = register_titles(ws, paths[:2])
        assert not failed
        cutter = MatchCutter(ws)
        first = cutter.find(assets)
        assert {p.scorer for p in first.pairs} == {"silhouette", "motion"}  # heuristics
        title = {a.checksum: t for t, a in enumerate(assets)}
        which = {(s.title, s.index): s for s in truth}

        def truth_of(key: str) -> ControlledShot:
            sha, index = key.split(":")
            return which[(title[sha], int(index))]

        store = FeatureStore(ws, [matchcut_features()])
        try:
            shots = ShotFeatures(store).load([s for t in first.titles for s in t.shots])
            by_key = {s.key: s for s in shots}
            vectors = ShotFeatures(store).pairs(
                [(by_key[p.shot_a], by_key[p.shot_b]) for p in first.pairs])
        finally:
            store.close()
        kinds, rows, labels = [], [], []
        for pair in first.pairs:
            a, b = truth_of(pair.shot_a), truth_of(pair.shot_b)
            same = a.composition == b.composition if pair.kind == FRAME else a.motion == b.motion
            kinds.append(pair.kind)
            rows.append(vectors["|".join(sorted((pair.shot_a, pair.shot_b)))])
            labels.append(int(same))
        label_set = LabelSet(kinds, np.stack(rows), np.array(labels))
        assert retrain(ws, LabelSet(kinds[:3], np.stack(rows[:3]), np.array(labels[:3]))) is None
        version = retrain(ws, label_set, minimum=10)
        assert version == 1
        upstream = {n["uri"] for n in ws.graph.lineage(f"rg://model/{MODEL}@1")
                    .to_dict()["nodes"]}
        assert LABELS.uri in upstream  # the model's lineage reaches its labels

        again = cutter.find(assets)
        assert {p.scorer for p in again.pairs} == {"learned"}
        assert again.pairs_computed == 0  # pair features were memoized


@pytest.mark.slow
def test_the_title_flow_runs_once_per_new_asset(
        settings: Settings, controlled: tuple[list[Path], list[ControlledShot]]) -> None:
    with Workspace.open(settings) as ws:
        assets, _ = register_titles(ws, controlled[0][:1])
        worker = Worker(ws, [title_flow()], backoff_s=0, max_attempts=1)
        try:
            outcomes = worker.run_once()
            assert [o.delivery.status for o in outcomes] == ["succeeded"], outcomes
            assert worker.run_once() == []
        finally:
            worker.close()
        # The cutter then only reads the features the flow computed.
        assert MatchCutter(ws).add(assets[0])[1] == 0
