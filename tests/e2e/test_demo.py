"""The main job end to end: ``reelgraph demo`` twice in a fresh home (the shared
``demo_runs``, small configuration), then the graph itself.

The demo runs through the CLI exactly as a user runs it (a subprocess of the installed
console script, on the embedded SQLite default); the assertions read the resulting graph
through the Python API.
"""

from __future__ import annotations

import csv
import hashlib
import re
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path

import pytest
from demo_runs import DEMO_TIMEOUT_S, DemoRuns

from reelgraph.core import Settings
from reelgraph.demo import SMALL, catalog, default_data_dir
from reelgraph.graph import Graph

# the shared demo runs inside the first test's limit: generous, the machine may be busy
pytestmark = [pytest.mark.slow, pytest.mark.timeout(2 * DEMO_TIMEOUT_S)]
RELEASE = default_data_dir() / "ml-latest-small"


def csv_rows(path: Path) -> int:
    with path.open(newline="", encoding="utf-8") as f:
        return sum(1 for _ in csv.reader(f)) - 1  # minus the header


@pytest.fixture
def graph(demo_runs: DemoRuns) -> Iterator[Graph]:
    home = demo_runs.home
    assert (home / "reelgraph.db").exists()  # the embedded default, under REELGRAPH_HOME
    opened = Graph.open(Settings.load(home=home).metadata_url)
    try:
        yield opened
    finally:
        opened.close()


def test_datasets_carry_real_row_counts_schema_and_checksums(graph: Graph) -> None:
    files = sorted(RELEASE.glob("*.csv"))
    assert [f.name for f in files] == ["links.csv", "movies.csv", "ratings.csv", "tags.csv"]
    for path in files:
        props = graph.show(catalog.dataset_uri(path.name)).properties
        assert props["rows"] == csv_rows(path)
        assert props["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
        with path.open(newline="", encoding="utf-8") as f:
            assert [c["name"] for c in props["schema"]] == next(csv.reader(f))
    ratings = graph.show(catalog.RATINGS).properties
    assert ratings["rows"] == 100_836
    assert {c["name"]: c["type"] for c in ratings["schema"]} == {
        "userId": "integer", "movieId": "integer", "rating": "float", "timestamp": "integer"
    }
    assert graph.show(catalog.MOVIES).properties["rows"] == 9_742
    assert graph.show(catalog.TAGS).properties["rows"] == 3_683


def test_lineage_impact_and_derived_links(graph: Graph) -> None:
    upstream = {n.uri for n in graph.lineage(catalog.RANKER_V2).nodes.values()}
    assert {catalog.RATINGS, catalog.MOVIES, catalog.TAGS, catalog.USER_GENRE,
            catalog.ITEM_POPULARITY, catalog.TAG_EMBEDDING} <= upstream
    assert catalog.TITLE_EMBEDDING not in upstream
    affected = {n.uri for n in graph.impact(catalog.RATINGS).of_kind(
        "deployment", "consumer", "experiment")}
    assert affected == {
        "rg://deployment/personalization/homepage-ranker",
        "rg://consumer/personalization/homepage-service",
        catalog.EXPERIMENT,
        # subscribed to the trained model, whose production version was trained on ratings
        "rg://consumer/personalization/homepage-row-service",
        # where the unified recommender, trained on ratings, is served
        "rg://deployment/personalization/unified-recommender-online",
        "rg://deployment/personalization/unified-recommender-nearline",
    }
    # derive() turned run -> cell -> experiment into model -> experiment, for both versions.
    for version in (catalog.RANKER_V1, catalog.RANKER_V2):
        linked = [(e.kind, other.uri) for _, e, other in graph.edges(version)]
        assert ("in_experiment", catalog.EXPERIMENT) in linked


def test_models_like_the_ranker_cross_domains(graph: Graph) -> None:
    similar = graph.similar(catalog.RANKER_V2)
    assert [s.model.uri for s in similar] == [
        catalog.TAGGER_V1, "rg://model/personalization/puresvd-recommender@1",
        "rg://model/personalization/unified-recommender@1"]
    # the unified recommender shares the ranker's data through its dataset node
    assert catalog.RATINGS in {n.uri for n in similar[2].shared}
    assert {n.uri for n in similar[0].shared} == {catalog.TAG_EMBEDDING, catalog.MOVIES,
                                                  catalog.TAGS}
    reuse = graph.reuse_candidates(catalog.RANKER_V2)
    assert [(c.input.uri, c.input.domain) for c in reuse] == [(catalog.TITLE_EMBEDDING, "studio")]


def test_the_second_run_changes_nothing_and_says_so(demo_runs: DemoRuns,
                                                    graph: Graph) -> None:
    first, second = demo_runs.first, demo_runs.second
    assert "new revisions written" in first
    assert "0 new revisions: everything was already registered" in second
    assert "0 new revisions" not in first
    # Every catalog and dataset node has exactly one revision: the second run rewrote nothing.
    declared = [n for n in graph.find(limit=10_000)
                if n.kind == "dataset" or n.properties.get("declared_by")]
    assert len(declared) == 25  # 24 declared or measured, and the recommender's log
    for node in declared:
        assert [r.revision for r in graph.history(node.uri)] == [1], node.uri
    # What the demo prints, both times: the tree, the impact and the cross-domain answer.
    for out in (first, second):
        assert catalog.RANKER_V2 in out and "derived_from" in out
        assert "rg://consumer/personalization/homepage-service" in out
        assert catalog.TAGGER_V1 in out and catalog.TITLE_EMBEDDING in out
        assert "reelgraph serve" in out


def test_a_real_model_is_trained_registered_and_promoted_once(
        demo_runs: DemoRuns, graph: Graph) -> None:
    from reelgraph.flows import Workspace
    from reelgraph.flows.registry import ModelRegistry

    first, second = demo_runs.first, demo_runs.second
    assert "5 steps computed, 0 reused" in first
    assert "all 5 steps reused" in second and "already registered, stage production" in second
    with Workspace.open(Settings.load(home=demo_runs.home)) as ws:
        runs = ws.runs.list(flow="train-puresvd")
        assert [r.status for r in runs] == ["succeeded", "succeeded"]
        registry = ModelRegistry(ws)
        model = registry.model("personalization/puresvd-recommender")
        assert [(v.version, v.stage) for v in model.versions] == [(1, "production")]
        assert [(t.from_stage, t.to_stage) for t in registry.history(model.name)] == [
            ("none", "staging"), ("staging", "production")]
        metrics = ws.load(runs[-1].id, "evaluation")
        assert metrics["puresvd"]["ndcg@10"] > metrics["popularity"]["ndcg@10"]
        model_value = registry.load(model.name)
        assert model_value["item_factors"].shape == (9_724, 48)  # rated movies x factors
    upstream = graph.lineage("rg://model/personalization/puresvd-recommender@1")
    kinds = {(n.kind, n.uri) for n in upstream.nodes.values()}
    assert ("dataset", catalog.RATINGS) in kinds
    assert ("job", "rg://job/personalization/train-puresvd") in kinds


def test_one_recommender_serves_every_canvas(demo_runs: DemoRuns,
                                            graph: Graph) -> None:
    from reelgraph.demo.features import EMBEDDING, feature_set
    from reelgraph.features import FeatureStore
    from reelgraph.flows import Workspace
    from reelgraph.flows.registry import ModelRegistry
    from reelgraph.recsys import MODEL

    first, second = demo_runs.first, demo_runs.second
    assert "one recommender for every canvas" in first
    assert "none -> staging" in first and "nearline answers precomputed" in first
    assert "already registered, stage production" in second
    assert "nearline answers already precomputed and fresh" in second
    for out in (first, second):
        assert "search(query='termnator', user='1')" in out and "Terminator" in out
        assert "notifications(user='1') nearline" in out
        assert "category(user='1', category='Sci-Fi') nearline" in out
    with Workspace.open(Settings.load(home=demo_runs.home)) as ws:
        versions = ModelRegistry(ws).model(MODEL).versions
        assert [(v.version, v.stage) for v in versions] == [(1, "production")]
        embedding = FeatureStore(ws, [feature_set(default_data_dir())])
        title_embedding = embedding.definition(EMBEDDING).uri
        embedding.close()
    upstream = {n.uri for n in graph.lineage(f"rg://model/{MODEL}@1").nodes.values()}
    assert {catalog.RATINGS, "rg://dataset/recsys/ml-latest-small",
            title_embedding} <= upstream


def test_title_embeddings_are_memoized(demo_runs: DemoRuns) -> None:
    from reelgraph.demo.features import EMBEDDING, feature_set
    from reelgraph.features import FeatureStore
    from reelgraph.flows import Workspace

    first, second = demo_runs.first, demo_runs.second
    titles = f"{SMALL.titles:,}"  # the small configuration embeds the most-rated titles
    assert f"first call:  {titles} computed, 0 reused" in first
    # The second demo finds every embedding stored: both of its calls compute nothing.
    assert f"first call:  0 computed, {titles} reused" in second
    assert f"second call: 0 computed, {titles} reused" in first
    assert "Toy Story 2 (1999)" in first  # the nearest title by the vector index
    assert "x faster)" in first  # the ratio is reported; timings are not asserted
    with Workspace.open(Settings.load(home=demo_runs.home)) as ws:
        store = FeatureStore(ws, [feature_set(default_data_dir())])
        vectors = store.get(EMBEDDING, [1, 3114])
        assert set(vectors) == {"1", "3114"} and vectors["1"].shape == (384,)
        assert store.replicator.verify(store.definition(EMBEDDING).ref).ok
        node = ws.graph.show(store.definition(EMBEDDING).uri)
        assert node.kind == "embedding"
        upstream = {n.uri for n in ws.graph.lineage(node.uri).nodes.values()}
        assert catalog.MOVIES in upstream and catalog.TAGS in upstream
        store.close()


def test_the_clips_are_ingested_by_the_trigger_once(demo_runs: DemoRuns) -> None:
    from reelgraph.flows import Workspace
    from reelgraph.media import MediaLibrary
    from reelgraph.media.annotations import AnnotationStore
    from reelgraph.media.pipeline import PRODUCER, contact_sheet_key

    home, first, second = demo_runs.home, demo_runs.first, demo_runs.second
    assert "4 pipeline run(s) started by new media-asset events" in first
    assert "no new media: every clip was ingested by an earlier run" in second
    assert "shots alike across titles" in first
    settings = Settings.load(home=home)
    with Workspace.open(settings) as ws:
        runs = ws.runs.list(flow="media-ingest")
        assert [r.status for r in runs] == ["succeeded"] * 4  # once per clip, both demos
        assets = {a.file_name: a for a in MediaLibrary(ws.graph).list()}
        assert set(assets) == {"big_buck_bunny_0_30.webm", "flower.mp4", "friday.mp4",
                               "tears-of-steel-battle-clip-medium.webm"}
        annotations = AnnotationStore(ws)
        try:
            shots = {name: annotations.query(a.uri, types="shot", producer=PRODUCER)
                     for name, a in assets.items()}
            # one annotation set per clip: the pipeline ran once for each
            assert all(len(annotations.versions(a.uri, producer=PRODUCER)) == 1
                       for a in assets.values())
        finally:
            annotations.close()
        assert len(shots["flower.mp4"]) == 1 and len(shots["friday.mp4"]) == 1  # one shot each
        assert len(shots["tears-of-steel-battle-clip-medium.webm"]) >= 14  # >= 13 cuts
        for name, found in shots.items():  # shots tile the clip: no gap, no overlap
            assert all(a.end_ns == b.start_ns for a, b in pairwise(found))
            assert ws.graph.get(contact_sheet_key(assets[name])) is not None
        assert (home / "demo" / "contact-sheets" / "flower.png").stat().st_size > 0


def test_the_demo_finds_match_cuts_with_previews_once(demo_runs: DemoRuns) -> None:
    home, first, second = demo_runs.home, demo_runs.first, demo_runs.second
    computed = [int(m.group(1)) for m in (re.search(r"(\d+) features\s+computed", out)
                                          for out in (first, second)) if m]
    assert len(computed) == 2 and computed[0] > 0 and computed[1] == 0  # memoized
    assert "best match cuts across titles" in first
    previews = sorted((home / "demo" / "match-cuts").glob("*.mp4"))
    assert previews and all(p.read_bytes()[4:8] == b"ftyp" for p in previews)
    assert any(p.name.startswith("frame-") for p in previews)


def test_a_week_on_call_detects_diagnoses_and_rolls_back_the_fault(
        demo_runs: DemoRuns) -> None:
    from reelgraph.flows import Workspace
    from reelgraph.flows.registry import ModelRegistry
    from reelgraph.ops import RecSysOps
    from reelgraph.recsys import MODEL

    for out in (demo_runs.first, demo_runs.second):  # a scratch week each run, same story
        assert "a week on call" in out and "the broken v2 promoted on day 4" in out
        assert "alert (" in out and "verdict: model" in out
        assert "hotfix: rolled back to v1" in out
        rates = dict(re.findall(r"(before the fault|the broken version|after the rollback): "
                                r"([0-9.]+)", out))
        assert float(rates["the broken version"]) < float(rates["before the fault"])
        assert float(rates["after the rollback"]) > float(rates["the broken version"])
    home = demo_runs.home / "demo" / "on-call"
    with Workspace.open(Settings.load(home=home, database_url="")) as ws:
        ops = RecSysOps(ws)
        [incident] = ops.incidents.all()
        assert incident.status == "mitigated"
        kinds = [e.kind for e in ops.incidents.timeline(incident.uri)]
        assert "diagnosis" in kinds and "hotfix" in kinds
        assert ops.production_version() == 1
        assert [v.stage for v in ModelRegistry(ws).model(MODEL).versions] == [
            "production", "archived"]
