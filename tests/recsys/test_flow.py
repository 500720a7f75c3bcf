"""The training flow on the paved road: one run trains and evaluates everything, the
registry gets the unified model with per-canvas metrics, and it loads back to serve."""

from __future__ import annotations

from pathlib import Path

import pytest
from recsys_samples import write_slice

from reelgraph.core import Settings
from reelgraph.flows import Workspace
from reelgraph.flows.registry import ModelRegistry
from reelgraph.recsys import MODEL, UnifiedRecommender, train_and_register
from reelgraph.recsys.canvases import CANVAS_NAMES
from reelgraph.recsys.metrics import METRICS


@pytest.mark.slow
def test_train_register_and_serve(tmp_path: Path) -> None:
    data = write_slice(tmp_path / "ml-slice")
    with Workspace.open(Settings.load(home=str(tmp_path / "home"), database_url="")) as ws:
        outcome = train_and_register(ws, data, epochs=1, dim=8, max_train=400, max_eval=40)
        assert outcome.run.status == "succeeded"
        steps = {t.step for t in outcome.run.tasks}
        assert {"unified", "single_task", "baselines", "evaluation", "model"} <= steps
        table = outcome.evaluation
        assert set(table) == set(CANVAS_NAMES)
        assert {"unified", "single_task", "popularity"} <= set(table["search"])
        assert "fuzzy" in table["search"] and "ease" in table["notifications"]
        version = outcome.version
        assert version.model == MODEL and version.step == "model"
        for canvas in CANVAS_NAMES:
            for metric in METRICS:
                assert f"{canvas}/{metric}" in version.metrics
        served = UnifiedRecommender.from_registry(ModelRegistry(ws), MODEL,
                                                  version=version.version)
        assert served.model_version == f"{MODEL}@{version.version}"
        assert served.metrics["search/recall@10"] == version.metrics["search/recall@10"]
        answer = served.recommend("search", query="toy story", k=3)
        assert answer.model_version == served.model_version and len(answer.items) == 3
        again = train_and_register(ws, data, epochs=1, dim=8, max_train=400, max_eval=40)
        assert again.version.version == version.version  # memoized: not registered twice
        assert all(t.status == "reused" for t in again.run.tasks)
