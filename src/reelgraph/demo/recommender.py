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
from reelgraph.demo.features import EMBEDDING, most_rated
from reelgraph.demo.model import WHO
from reelgraph.demo.progress import FlowTasks, Quiet, Stages
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


POPULAR = 20  # an answer mostly from the 20 most-rated titles is popularity, not relatedness


@dataclass(frozen=True)
class RecommenderReport:
    """The demo's recommender part: its run, evaluation, registered version, promotions and
    sample answers."""
    run: RunRecord
    evaluation: dict[str, dict[str, dict[str, float]]]  # canvas -> model -> metric
    version: ModelVersion
    newly_registered: bool
    promotions: list[Transition]
    precomputed: dict[str, int]  # nearline answers stored by this demo run, per canvas
    answers: list[tuple[str, dict[str, Any], Served]]
    titles: dict[str, str]  # item id -> title, to print the answers
    popular: frozenset[str]  # the most-rated titles' ids: an answer made of them is generic

    @property
    def reused_steps(self) -> int:
        return sum(t.status == "reused" for t in self.run.tasks)

    def beaten(self, metric: str = "ndcg@10") -> list[tuple[str, str, float, float]]:
        """Where a classical baseline beats the unified model: (canvas, baseline, unified's
        value, the baseline's), best baseline per canvas."""
        found = []
        for canvas, by_model in self.evaluation.items():
            unified = by_model["unified"][metric]
            rivals = {name: m[metric] for name, m in by_model.items()
                      if name not in ("unified", "single_task") and metric in m}
            best = max(rivals, key=rivals.__getitem__, default=None)
            if best is not None and rivals[best] > unified:
                found.append((canvas, best, unified, rivals[best]))
        return found

    def generic(self, items: list[str]) -> int:
        """How many of ``items`` are among the most-rated titles."""
        return sum(item in self.popular for item in items)


def train_and_serve(ws: Workspace, data_dir: Path, budget: dict[str, Any] | None = None,
                    stages: Stages | None = None) -> RecommenderReport:
    """``budget``: the training flow's params (epochs, max_train, ...); default its own."""
    stages = stages or Quiet()
    registry = ModelRegistry(ws)
    known = ({v.version for v in registry.model(MODEL).versions}
             if any(m.name == MODEL for m in registry.models()) else set())
    stages.begin("training the unified recommender, its twins and baselines")
    outcome = train_and_register(ws, data_dir / catalog.RELEASE, item_vectors=EMBEDDING,
                                 who=WHO, progress=FlowTasks(None, stages), **(budget or {}))
    stages.end()
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
        stages.begin("precomputing nearline answers")
        counts: dict[str, tuple[int, int]] = {}  # canvas -> (done, total)

        def advance(canvas: str, done: int, total: int) -> None:
            counts[canvas] = (done, total)
            stages.update(sum(d for d, _ in counts.values()), sum(t for _, t in counts.values()))

        precomputed = service.precompute(skip_fresh=True, progress=advance)
        stages.end()
        answers = [(canvas, asked, service.recommend(canvas, k=5, **asked))
                   for canvas, asked in QUESTIONS]
        vocabulary = service.current.recommender.vocabulary
        titles = dict(zip(vocabulary.item_ids, vocabulary.titles, strict=True))
    finally:
        service.close()
    return RecommenderReport(outcome.run, outcome.evaluation,
                             registry.version(MODEL, outcome.version.version),
                             outcome.version.version not in known, promotions, precomputed,
                             answers, titles,
                             frozenset(map(str, most_rated(data_dir, POPULAR))))
