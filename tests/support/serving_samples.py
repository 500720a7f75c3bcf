"""Registering a trained recommender as a model version, for the serving tests: a one-step
run stores the bundle, the registry registers it and (by default) promotes it."""

from __future__ import annotations

import pickle
from pathlib import Path

from reelgraph.flows import Flow, Runner, Workspace
from reelgraph.flows.registry import ModelRegistry
from reelgraph.recsys import MODEL, UnifiedRecommender

publish = Flow("publish-recommender", namespace="personalization", params={"path": ""},
               owner="personalization")


@publish.step
def model(path: str) -> object:
    return pickle.loads(Path(path).read_bytes())


def register(ws: Workspace, recommender: UnifiedRecommender, folder: Path,
             promote: bool = True, metrics: dict[str, float] | None = None) -> int:
    """Register the model as a version (through a one-step run) and maybe promote it."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"bundle-{len(list(folder.iterdir()))}.pkl"
    path.write_bytes(pickle.dumps(recommender.to_bundle()))
    run = Runner(ws).run(publish, {"path": str(path)})
    assert run.status == "succeeded", run.error
    registry = ModelRegistry(ws)
    number = registry.register(MODEL, run.id, step="model", who="test", metrics=metrics)
    if promote:
        registry.promote(MODEL, number, "staging", who="test")
        registry.promote(MODEL, number, "production", who="test")
    return number
