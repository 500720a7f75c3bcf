"""The demo's unified recommender: one model for four canvases, trained on the bundled
ml-latest-small with the studio's title embeddings from the feature store as an item input,
registered, promoted through its gates, served with its nearline canvases precomputed, and
asked one question per canvas.

Memoized like the rest of the demo: a second run reuses every training step, finds the
version already in production and its nearline answers still fresh.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reelgraph.demo import catalog
from reelgraph.demo.features import EMBEDDING
from reelgraph.demo.model import WHO
from reelgraph.flows import RunRecord, Workspace
from reelgraph.flows.registry import (
    MetricAtLeast,
    MetricNotWorse,
    ModelRegistry,
    ModelVersion,
    Transition,
)
from reelgraph.recsys import MODEL, train_and_register
from reelgraph.serving import RecommendationService, Served

# One question per canvas: (canvas, what the caller passes).
QUESTIONS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("related", {"item": "1"}),  # Toy Story
    ("category", {"user": "1", "category": "Sci-Fi"}),
    ("search", {"query": "termnator", "user": "1"}),
    ("search", {"query": "star wars emp"}),
    ("notifications", {"user": "1"}),
)


@dataclass(frozen=True)
class RecommenderReport:
    run: RunRecord
    evaluation: dict[str, dict[str, dict[str, float]]]  # canvas -> model -> metric
    version: ModelVersion
    newly_registered: bool
    promotions: list[Transition]
    precomputed: dict[str, int]  # nearline answers stored by this demo run, per canvas
    answers: list[tuple[str, dict[str, Any], Served]]
    titles: dict[str, str]  # item id -> title, to print the answers

    @property
    def reused_steps(self) -> int:
        return sum(t.status == "reused" for t in self.run.tasks)


def train_and_serve(ws: Workspace, data_dir: Path) -> RecommenderReport:
    registry = ModelRegistry(ws)
    known = ({v.version for v in registry.model(MODEL).versions}
             if any(m.name == MODEL for m in registry.models()) else set())
    outcome = train_and_register(ws, data_dir / catalog.RELEASE, item_vectors=EMBEDDING,
                                 who=WHO)
    # Gates: search must find what was meant; a new version must not rank category rows
    # worse than the one in production.
    registry.declare_gate(MODEL, MetricAtLeast("search/recall@10", 0.5), who=WHO)
    registry.declare_gate(MODEL, MetricNotWorse("category/ndcg@10", margin=0.01), who=WHO)
    promotions = registry.promote_to_production(
        MODEL, outcome.version.version, WHO,
        "one model for every canvas, evaluated on a time split")
    service = RecommendationService(ws)
    try:
        service.refresh(precompute=False)
        precomputed = service.precompute(skip_fresh=True)
        answers = [(canvas, asked, service.recommend(canvas, k=5, **asked))
                   for canvas, asked in QUESTIONS]
        vocabulary = service.current.recommender.vocabulary
        titles = dict(zip(vocabulary.item_ids, vocabulary.titles, strict=True))
    finally:
        service.close()
    return RecommenderReport(outcome.run, outcome.evaluation,
                             registry.version(MODEL, outcome.version.version),
                             outcome.version.version not in known, promotions, precomputed,
                             answers, titles)
