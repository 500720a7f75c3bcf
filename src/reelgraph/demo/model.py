"""The demo's paved-road part: train a real model as a flow, register it, promote it
through its gates, subscribe its consumer. Memoized: a second demo reuses every step (the
flow's cache) and finds the model already registered and in production.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from reelgraph.demo import catalog
from reelgraph.demo.progress import FlowTasks, Quiet, Stages
from reelgraph.demo.training import training
from reelgraph.flows import Runner, RunRecord, Workspace
from reelgraph.flows.registry import (
    MetricAtLeast,
    MetricNotWorse,
    ModelRegistry,
    ModelVersion,
    Transition,
)

MODEL = "personalization/puresvd-recommender"
CONSUMER = "personalization/homepage-row-service"
WHO = "reelgraph demo"


@dataclass(frozen=True)
class TrainingReport:
    run: RunRecord
    metrics: dict[str, dict[str, float]]  # per model: recall@10, recall@20, ndcg@10
    version: ModelVersion
    newly_registered: bool
    promotions: list[Transition]  # stage moves made by this demo run (none when memoized)

    @property
    def reused_steps(self) -> int:
        return sum(t.status == "reused" for t in self.run.tasks)


def train_and_promote(ws: Workspace, data_dir: Path, stages: Stages | None = None
                      ) -> TrainingReport:
    stages = stages or Quiet()
    ratings = data_dir / catalog.RELEASE / "ratings.csv"
    tasks = FlowTasks(training, stages)
    stages.begin(f"training PureSVD (flow {training.name})", tasks.total)
    run = Runner(ws).run(training, {"ratings_csv": str(ratings)}, use_cache=True, seed=2026,
                         progress=tasks)
    stages.end()
    if run.status != "succeeded":
        raise RuntimeError(f"the demo's training run {run.id} failed: {run.error}")
    metrics = ws.load(run.id, "evaluation")
    registry = ModelRegistry(ws)
    artifact = ws.runs.artifact(run.id, "puresvd")
    known = [v for m in registry.models() if m.name == MODEL
             for v in registry.model(MODEL).versions if v.artifact.digest == artifact.digest]
    newly = not known
    if newly:
        number = registry.register(
            MODEL, run.id, step="puresvd", metrics=metrics["puresvd"],
            signature={"inputs": "user history (item ids)", "outputs": "item scores"},
            description="PureSVD item factors on MovieLens ml-latest-small",
            owner="personalization", who=WHO)
        version = registry.version(MODEL, number)
    else:
        version = known[-1]
    # Gates: not worse than production, and better than the popularity baseline.
    registry.declare_gate(MODEL, MetricNotWorse("ndcg@10", margin=0.01), who=WHO)
    registry.declare_gate(MODEL, MetricAtLeast("ndcg@10", metrics["popularity"]["ndcg@10"]),
                          who=WHO)
    promotions = registry.promote_to_production(MODEL, version.version, WHO,
                                                "beats popularity on the time split")
    registry.subscribe(MODEL, CONSUMER, owner="web", who=WHO)
    return TrainingReport(run, metrics, registry.version(MODEL, version.version), newly,
                          promotions)
