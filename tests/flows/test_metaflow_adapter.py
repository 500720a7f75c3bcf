"""Metaflow runs imported into the graph: a real flow run by Metaflow's local runtime."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from reelgraph.core.errors import InvalidInput
from reelgraph.flows.metaflow import SOURCE, MetaflowSource, import_metaflow
from reelgraph.graph import Graph, NodeKey
from reelgraph.graph.adapters import Ingestor, ThinEvent

pytest.importorskip("metaflow")
pytestmark = pytest.mark.slow

FLOW = textwrap.dedent('''
    from metaflow import FlowSpec, Parameter, step


    class RatingsFlow(FlowSpec):
        alpha = Parameter("alpha", default=0.5)
        explode = Parameter("explode", default=False, type=bool)

        @step
        def start(self):
            self.items = [1, 2, 3]
            self.next(self.square, foreach="items")

        @step
        def square(self):
            self.value = self.input ** 2
            self.next(self.join)

        @step
        def join(self, inputs):
            self.total = sum(i.value for i in inputs)
            self.next(self.end)

        @step
        def end(self):
            if self.explode:
                raise RuntimeError("asked to explode")
            self.result = self.total * self.alpha


    if __name__ == "__main__":
        RatingsFlow()
''')


def run_metaflow(folder: Path, *args: str) -> str:
    """Run the flow with Metaflow's local runtime; returns the run id."""
    env = {**os.environ, "METAFLOW_HOME": str(folder / "home"), "USERNAME": "test",
           "METAFLOW_DEFAULT_METADATA": "local", "METAFLOW_DEFAULT_DATASTORE": "local",
           "METAFLOW_DEFAULT_ENVIRONMENT": "local"}
    id_file = folder / f"run-id-{len(list(folder.glob('run-id-*')))}"
    subprocess.run([sys.executable, "ratings_flow.py", "run", f"--run-id-file={id_file}",
                    *args], cwd=folder, env=env, capture_output=True, text=True, timeout=300,
                   check=False)
    return id_file.read_text().strip()


@pytest.fixture(scope="module")
def metaflow_root(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    """A folder with two real runs: one succeeded (tagged), one failed."""
    folder = tmp_path_factory.mktemp("metaflow")
    (folder / "ratings_flow.py").write_text(FLOW)
    good = run_metaflow(folder, "--tag", "team:recs", "--alpha", "2.0")
    bad = run_metaflow(folder, "--explode", "True")
    return folder, good, bad


def test_flows_runs_artifacts_and_tags_land_in_the_graph(
        graph: Graph, metaflow_root: tuple[Path, str, str]) -> None:
    root, good, bad = metaflow_root
    source = MetaflowSource(root, namespace="recs")
    applied = import_metaflow(graph, source)
    assert applied == len(list(source.list_ids()))

    job = graph.show("rg://job/recs/RatingsFlow")
    assert job.properties["steps"] == ["start", "square", "join", "end"]
    assert "source:metaflow" in job.tags

    run = graph.show(f"rg://run/recs/RatingsFlow/{good}")
    assert run.properties["status"] == "succeeded" and run.properties["successful"] is True
    assert run.properties["params"] == {"alpha": 2.0, "explode": False}
    assert run.properties["steps"]["square"]["tasks"] == 3
    assert run.properties["started_at"] < run.properties["ended_at"]
    assert {"team:recs", "user:test", "succeeded"} <= set(run.tags)
    assert run.owner == "test"
    assert [n.key.uri for _, _, n in graph.edges(run.key) if n.key.kind == "job"] == [job.key.uri]

    failed = graph.show(f"rg://run/recs/RatingsFlow/{bad}")
    assert failed.properties["status"] == "failed" and "team:recs" not in failed.tags

    produced = {n.key for _, e, n in graph.edges(run.key) if e.kind == "produced_by"}
    names = {k.name for k in produced}
    assert names == {"RatingsFlow/items", "RatingsFlow/value", "RatingsFlow/total",
                     "RatingsFlow/result"}  # parameters and Metaflow internals are not
    assert {k.version for k in produced} == {good}
    value = graph.show(NodeKey("artifact", "recs", "RatingsFlow/value", good))
    assert value.properties["steps"] == ["square"]
    assert len(value.properties["sha1"]) == 3  # one per foreach element
    no_result = graph.get(NodeKey("artifact", "recs", "RatingsFlow/result", bad))
    assert no_result is None  # the failed run never stored it


def test_reingesting_is_a_no_op(graph: Graph, metaflow_root: tuple[Path, str, str]) -> None:
    root, _, _ = metaflow_root
    source = MetaflowSource(root, namespace="recs")
    import_metaflow(graph, source)
    before = graph.changes(0, limit=100_000)
    import_metaflow(graph, source)
    ingestor = Ingestor(graph, [source])
    for entity_id in source.list_ids():
        ingestor.handle(ThinEvent(SOURCE, entity_id))
    assert graph.changes(0, limit=100_000) == before


def test_events_for_gone_or_unknown_ids_tombstone(
        graph: Graph, metaflow_root: tuple[Path, str, str], tmp_path: Path) -> None:
    root, good, _ = metaflow_root
    copy = tmp_path / "copy"
    shutil.copytree(root, copy)  # the module's runs stay intact for the other tests
    source = MetaflowSource(copy, namespace="recs")
    import_metaflow(graph, source)
    artifacts = [i for i in source.list_ids() if i.startswith(f"RatingsFlow/{good}/")]
    shutil.rmtree(copy / ".metaflow" / "RatingsFlow" / good)  # the run is gone from Metaflow

    ingestor = Ingestor(graph, [source])
    for entity_id in [f"RatingsFlow/{good}", *artifacts]:
        ingestor.handle(ThinEvent(SOURCE, entity_id, "deleted"))
    assert graph.get(f"rg://run/recs/RatingsFlow/{good}") is None
    assert graph.get(NodeKey("artifact", "recs", "RatingsFlow/total", good)) is None
    assert graph.get("rg://job/recs/RatingsFlow") is not None  # the other run still uses it

    ingestor.handle(ThinEvent(SOURCE, "RatingsFlow/123456"))  # never existed
    assert graph.get("rg://run/recs/RatingsFlow/123456") is None
    with pytest.raises(InvalidInput, match="not a Metaflow entity id"):
        ingestor.handle(ThinEvent(SOURCE, "RatingsFlow//x"))


def test_a_folder_without_metaflow_metadata_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match=r"no \.metaflow directory"):
        MetaflowSource(tmp_path)
