"""The training flow on the paved road: one run trains and evaluates everything, the
registry gets the unified model with per-canvas metrics, and it loads back to serve."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from recsys_samples import write_slice

from reelgraph.core import Settings
from reelgraph.features import EntityType, FeatureSet, FeatureStore, Vector
from reelgraph.features.online import open_online_store
from reelgraph.flows import Workspace
from reelgraph.flows.registry import ModelRegistry
from reelgraph.recsys import MODEL, UnifiedRecommender, train_and_register
from reelgraph.recsys.canvases import CANVAS_NAMES
from reelgraph.recsys.metrics import METRICS

TITLE = EntityType("title", int)


def title_vectors(ws: Workspace, item_ids: list[str]) -> str:
    """A vector feature of the titles, materialized as if computed by another team."""
    features = FeatureSet("studio")

    @features.feature(entity=TITLE, value=Vector(6), online=True,
                      description="a title embedding computed elsewhere")
    def title_vector(keys: list[str]) -> dict[str, list[float]]:
        raise AssertionError("materialized, never computed here")

    store = FeatureStore(ws, [features], online=open_online_store(settings=ws.settings))
    try:
        rng = np.random.default_rng(0)
        store.materialize("studio/title_vector", {int(i): rng.normal(size=6).tolist()
                                                  for i in item_ids[::2]})
        return store.definition("studio/title_vector").uri
    finally:
        store.close()


@pytest.mark.slow
def test_train_register_and_serve(tmp_path: Path) -> None:
    data = write_slice(tmp_path / "ml-slice")
    with Workspace.open(Settings.load(home=str(tmp_path / "home"), database_url="")) as ws:
        items = [line.split(",")[0] for line in
                 (data / "movies.csv").read_text().splitlines()[1:]]
        feature = title_vectors(ws, items)
        outcome = train_and_register(ws, data, item_vectors="studio/title_vector", epochs=1,
                                     dim=8, max_train=400, max_eval=40)
        assert outcome.run.status == "succeeded"
        # Lineage: the model version's run read the dataset and the feature store's vectors.
        upstream = {n.uri for n in ws.graph.lineage(outcome.version.uri).nodes.values()}
        assert {"rg://dataset/recsys/ml-slice", feature} <= upstream
        sliced = ws.graph.get("rg://dataset/recsys/ml-slice")
        assert sliced is not None and sliced.properties["users"] > 0
        assert ws.load(outcome.run.id, "vectors").shape == (len(items), 6)
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
        again = train_and_register(ws, data, item_vectors="studio/title_vector", epochs=1,
                                   dim=8, max_train=400, max_eval=40)
        assert again.version.version == version.version  # memoized: not registered twice
        assert all(t.status == "reused" for t in again.run.tasks)
