"""The learned pair scorer: a classifier on pair features, trained from review labels.

``LabelSet`` rows are ``(kind, pair features, label)``: the pair's memoized heuristic scores
(``PAIR_FEATURES``) and a reviewer's accept (1) or reject (0). ``save_labels`` stores them as
a ``dataset`` node (``rg://dataset/matchcut/review-labels``, the rows as a JSON artifact) so
the model's lineage reaches them. ``training_flow`` fits one logistic regression per kind
(standardised features, balanced classes) as a recorded run that reads that node;
``retrain`` runs it when every kind has ``min_labels`` labels of both classes, registers the
result as ``matchcut/pair-scorer`` and promotes it to production. Until then the heuristics
rank (``LearnedScorer.from_registry`` returns None).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from reelgraph.core import InvalidInput, NotFound
from reelgraph.flows import Flow, Runner, StepContext, Workspace
from reelgraph.flows.registry import ModelRegistry
from reelgraph.graph import NodeKey
from reelgraph.matchcut.scorers import KINDS, PAIR_FEATURES, ShotRecord, pair_features

MODEL = "matchcut/pair-scorer"
LABELS = NodeKey("dataset", "matchcut", "review-labels")
MIN_LABELS = 20  # per kind, with both classes present
WHO = "matchcut"


@dataclass(frozen=True)
class LabelSet:
    kinds: list[str]
    features: npt.NDArray[np.float32]  # (n, len(PAIR_FEATURES))
    labels: npt.NDArray[np.int64]  # 1 accept, 0 reject

    def to_json(self) -> bytes:
        return json.dumps({"columns": list(PAIR_FEATURES), "kinds": self.kinds,
                           "features": self.features.tolist(),
                           "labels": self.labels.tolist()}).encode()

    @classmethod
    def from_json(cls, data: bytes) -> LabelSet:
        doc = json.loads(data)
        if doc["columns"] != list(PAIR_FEATURES):
            raise InvalidInput("the stored labels have other pair features than this code",
                               "save the labels again (their pair features are recomputed)")
        return cls(doc["kinds"], np.asarray(doc["features"], np.float32).reshape(
            -1, len(PAIR_FEATURES)), np.asarray(doc["labels"], np.int64))

    def of(self, kind: str) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.int64]]:
        chosen = np.array([k == kind for k in self.kinds], dtype=bool)
        return self.features[chosen], self.labels[chosen]

    def ready(self, kind: str, minimum: int = MIN_LABELS) -> bool:
        _, labels = self.of(kind)
        return len(labels) >= minimum and 0 < int(labels.sum()) < len(labels)


def fit(features: npt.NDArray[np.float32], labels: npt.NDArray[np.int64], seed: int = 0,
        c: float = 1.0) -> Any:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    model = make_pipeline(StandardScaler(), LogisticRegression(
        C=c, class_weight="balanced", max_iter=1000, random_state=seed))
    return model.fit(features, labels)


def save_labels(ws: Workspace, labels: LabelSet) -> str:
    """Store the rows as the labels dataset's current revision; returns the node's URI."""
    digest = ws.artifacts.put_bytes(labels.to_json())
    counts = {k: len(labels.of(k)[1]) for k in KINDS}
    with ws.graph.batch(author="matchcut") as write:
        write.add(LABELS, description="match-cut review labels with their pair features",
                  properties={"digest": digest, "rows": len(labels.labels), "per_kind": counts})
    return LABELS.uri


def training_flow() -> Flow:
    flow = Flow("matchcut-scorer", namespace="matchcut", params={"labels_digest": ""},
                description="fit the match-cut pair scorer on review labels")

    @flow.step
    def table(labels_digest: str, ctx: StepContext) -> LabelSet:
        ctx.read(LABELS.uri)
        return LabelSet.from_json(ctx.workspace.artifacts.get_bytes(labels_digest))

    @flow.step
    def model(table: LabelSet) -> dict[str, Any]:
        return {kind: fit(*table.of(kind)) for kind in KINDS if table.ready(kind)}

    return flow


def retrain(ws: Workspace, labels: LabelSet, minimum: int = MIN_LABELS) -> int | None:
    """Fit, register and promote a new version when every kind has enough labels; returns
    its version number (None: not enough labels yet, heuristics keep ranking)."""
    if not all(labels.ready(kind, minimum) for kind in KINDS):
        return None
    save_labels(ws, labels)
    node = ws.graph.get(LABELS)
    assert node is not None
    run = Runner(ws).run(training_flow(), {"labels_digest": node.properties["digest"]})
    if run.status != "succeeded":
        raise InvalidInput(f"the scorer's training run {run.id} failed: {run.error}",
                           f"see `reelgraph runs show {run.id}`")
    registry = ModelRegistry(ws)
    version = registry.register(MODEL, run.id, step="model", metrics={
        f"labels_{k}": float(len(labels.of(k)[1])) for k in KINDS},
        description="logistic regression per match kind on pair features", owner=WHO,
        who=WHO)
    registry.promote_to_production(MODEL, version, WHO, "retrained on review labels")
    return version


class LearnedScorer:
    """``score(shot_a, shot_b)`` from the production pair scorer of one kind."""

    def __init__(self, kind: str, model: Any) -> None:
        self.kind = kind
        self.name = "learned"
        self._model = model

    def score(self, shot_a: ShotRecord, shot_b: ShotRecord) -> float:
        return self.score_features(pair_features(shot_a, shot_b))

    def score_features(self, features: npt.NDArray[np.float32]) -> float:
        return float(self._model.predict_proba(features.reshape(1, -1))[0, 1])

    @classmethod
    def from_registry(cls, ws: Workspace, kind: str) -> LearnedScorer | None:
        try:
            models = ModelRegistry(ws).load(MODEL)
        except NotFound:
            return None
        if kind not in models:
            return None
        # A model fitted on an older set of pair features cannot score today's vectors:
        # the heuristics rank until the retrain flow fits it again.
        if getattr(models[kind], "n_features_in_", len(PAIR_FEATURES)) != len(PAIR_FEATURES):
            return None
        return cls(kind, models[kind])
