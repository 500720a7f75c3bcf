"""The match-cutting pipeline over titles: shots, per-shot features, candidates, ranking.

``MatchCutter(ws).find(assets)`` takes each title on its own (a title that fails, e.g. with
no shots or an unreadable file, is reported in ``FindReport.failed`` and the others go on),
memoizes its shots (annotations) and per-shot features (feature store), then, per kind,
finds candidate pairs within and across titles (``candidates``), memoizes each pair's
features (feature store, entity ``shot_pair``), ranks with the kind's scorer (the learned
one when the registry has one in production, else the heuristic) and saves the ranking.
A second run over the same titles computes no feature and no pair.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np

from reelgraph.core import ReelgraphError
from reelgraph.features import FeatureStore
from reelgraph.flows import Workspace
from reelgraph.matchcut.candidates import CandidateConfig, candidates, normalised
from reelgraph.matchcut.detectors import DEFAULT_DETECTOR
from reelgraph.matchcut.features import ShotFeatures, matchcut_features, pair_key
from reelgraph.matchcut.learning import LearnedScorer
from reelgraph.matchcut.pairs import MatchPair, PairStore, pair_id
from reelgraph.matchcut.scorers import (
    DEFAULT_SCORER,
    FRAME,
    KINDS,
    MOTION,
    PAIR_FEATURES,
    ShotRecord,
)
from reelgraph.matchcut.titles import Title, frame_source, title_shots
from reelgraph.media import MediaAsset, MediaLibrary

# The per-shot vectors each kind searches neighbours with (each L2-normalised, then joined):
# framing alone lets a scene's colours and textures outvote where the subject is.
SEARCH_FEATURES = {FRAME: ("framing", "mask"), MOTION: ("motion",)}
PairScore = Callable[[str, ShotRecord, ShotRecord, np.ndarray], tuple[float, str]]


@dataclass
class FindReport:
    titles: list[Title] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # title -> why
    pairs: list[MatchPair] = field(default_factory=list)
    computed: dict[str, int] = field(default_factory=dict)  # feature -> values computed
    candidates: dict[str, int] = field(default_factory=dict)  # kind -> candidate pairs

    @property
    def features_computed(self) -> int:
        return sum(v for k, v in self.computed.items() if k != "pairs")

    @property
    def pairs_computed(self) -> int:
        return self.computed.get("pairs", 0)


class MatchCutter:
    def __init__(self, ws: Workspace, *, detector: str = DEFAULT_DETECTOR, faces: bool = False,
                 config: CandidateConfig | None = None, scorer: PairScore | None = None
                 ) -> None:
        self.ws = ws
        self.detector = detector
        self.faces = faces
        self.config = config or CandidateConfig()
        self.scorer = scorer

    def find(self, assets: Iterable[MediaAsset], run_id: str | None = None) -> FindReport:
        report = FindReport()
        store = FeatureStore(self.ws, [matchcut_features(faces=self.faces)])
        try:
            features = ShotFeatures(store, faces=self.faces)
            shots: list[ShotRecord] = []
            for asset in assets:
                try:
                    title = self._title(asset, features, run_id)
                except ReelgraphError as exc:
                    report.failed[asset.file_name] = str(exc)
                    continue
                report.titles.append(title)
                shots += title.shots
            loaded = features.load(shots)
            names = {t.asset.checksum: t for t in report.titles}
            for kind in KINDS:
                found = self._rank(kind, loaded, features, names, run_id)
                report.candidates[kind] = len(found)
                report.pairs += found
            report.computed = dict(features.computed)
        finally:
            store.close()
        PairStore(self.ws).save(report.pairs)
        return report

    def add(self, asset: MediaAsset, run_id: str | None = None) -> tuple[Title, int]:
        """One title's shots and per-shot features (what the ingest trigger runs): the
        title and how many feature values were computed (0 when memoized)."""
        store = FeatureStore(self.ws, [matchcut_features(faces=self.faces)])
        try:
            features = ShotFeatures(store, faces=self.faces)
            return self._title(asset, features, run_id), sum(features.computed.values())
        finally:
            store.close()

    def _title(self, asset: MediaAsset, features: ShotFeatures, run_id: str | None) -> Title:
        title = title_shots(self.ws, asset, self.detector)
        frames = frame_source(self.ws, asset)
        features.ensure({s.key: partial(frames, s) for s in title.shots}, run_id)
        return title

    def _rank(self, kind: str, shots: Sequence[ShotRecord], features: ShotFeatures,
              titles: dict[str, Title], run_id: str | None) -> list[MatchPair]:
        if len(shots) < 2:
            return []
        search = np.hstack([normalised(np.stack([s.features[name] for s in shots]))
                            for name in SEARCH_FEATURES[kind]])
        dedup = np.stack([s.features["framing"] for s in shots])
        found = candidates(shots, search, dedup, self.config)
        pairs = [(shots[i], shots[j]) for i, j, _ in found]
        vectors = features.pairs(pairs, run_id)
        score = self.scorer or self._default_score(kind)
        ranked = []
        for a, b in pairs:
            a, b = (a, b) if (a.title, a.index) <= (b.title, b.index) else (b, a)
            value, name = score(kind, a, b, vectors[pair_key(a.key, b.key)])
            asset_a, asset_b = titles[a.title].asset, titles[b.title].asset
            ranked.append(MatchPair(pair_id(kind, a.key, b.key), kind, a.key, b.key,
                                    asset_a.file_name, asset_b.file_name, asset_a.uri,
                                    asset_b.uri, (a.start_ns, a.end_ns), (b.start_ns, b.end_ns),
                                    value, name))
        return sorted(ranked, key=lambda p: (-p.score, p.id))


    def _default_score(self, kind: str) -> PairScore:
        """The production learned scorer of the kind, else the kind's heuristic."""
        learned = LearnedScorer.from_registry(self.ws, kind)
        if learned is None:
            return heuristic_pair_score

        def score(kind: str, a: ShotRecord, b: ShotRecord, vector: np.ndarray
                  ) -> tuple[float, str]:
            return learned.score_features(vector), learned.name

        return score


def heuristic_pair_score(kind: str, a: ShotRecord, b: ShotRecord, vector: np.ndarray
                         ) -> tuple[float, str]:
    """The kind's default heuristic, read from the pair's memoized features."""
    name = DEFAULT_SCORER[kind]
    return float(vector[PAIR_FEATURES.index(name)]), name


def register_titles(ws: Workspace, paths: Iterable[str | Path], namespace: str = "studio"
                    ) -> tuple[list[MediaAsset], dict[str, str]]:
    """Register files as media assets, each on its own: (assets, file -> why it failed)."""
    assets: list[MediaAsset] = []
    failed: dict[str, str] = {}
    library = MediaLibrary(ws.graph)
    for path in paths:
        try:
            assets.append(library.add(path, namespace))
        except ReelgraphError as exc:
            failed[str(path)] = str(exc)
    return assets, failed
