"""``reelgraph graph ...`` on a small two-domain graph, on SQLite and PostgreSQL: each
command's answer, and bad input (one red line, exit code 1, nothing stored)."""

from __future__ import annotations

import json
import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from reelgraph.cli import app
from reelgraph.graph import Graph

DATA = "rg://dataset/movielens/ratings.csv"
CLICKS = "rg://dataset/ads/clicks"
FEATURE = "rg://feature/personalization/item-popularity"
EMBEDDING = "rg://embedding/ads/item-text-embedding"
RANKER = "rg://model/personalization/ranker@1"
CTR = "rg://model/ads/ctr@1"
DEPLOYMENT = "rg://deployment/personalization/homepage-ranker"
CONSUMER = "rg://consumer/personalization/homepage-service"
ISOLATED = "rg://consumer/nobody/isolated"


@dataclass
class Cli:
    database_url: str
    runner: CliRunner

    def __call__(self, *args: str) -> object:
        return self.runner.invoke(app, ["--database-url", self.database_url, *args])


def build(graph: Graph) -> None:
    with graph.batch("test") as b:
        b.add(DATA, owner="data-eng", description="MovieLens ratings", tags=["ratings"],
              properties={"rows": 100})
        b.add(CLICKS, owner="ads-data", description="Ad click log")
        b.add(FEATURE, owner="perso-team", description="How often an item is rated")
        b.add(EMBEDDING, owner="ads-team", description="Item text embedding")
        b.add(RANKER, owner="perso-team", description="Homepage ranker")
        b.add(CTR, owner="ads-team", description="Click-through model")
        b.add(DEPLOYMENT, owner="perso-team")
        b.add(CONSUMER, owner="homepage-eng")
        b.add(ISOLATED, owner="nobody")
        b.link(FEATURE, "derived_from", DATA)
        b.link(RANKER, "uses_feature", FEATURE)
        b.link(RANKER, "trained_on", DATA)
        b.link(CTR, "uses_feature", FEATURE)
        b.link(CTR, "uses_feature", EMBEDDING)
        b.link(CTR, "trained_on", CLICKS)
        b.link(EMBEDDING, "derived_from", CLICKS)
        b.link(RANKER, "deployed_as", DEPLOYMENT)
        b.link(DEPLOYMENT, "consumed_by", CONSUMER)


@pytest.fixture
def cli(graph_url: str) -> Iterator[Cli]:
    graph = Graph.open(graph_url)
    try:
        build(graph)
    finally:
        graph.close()
    # Wide columns so Rich never folds a URI across lines in the captured output.
    yield Cli(graph_url, CliRunner(env={"COLUMNS": "250", "NO_COLOR": "1"}))


def ok(result: Any) -> str:
    assert result.exit_code == 0, (result.output, result.exception)
    return str(result.stdout)


def test_search_ranks_and_filters(cli: Cli) -> None:
    out = ok(cli("graph", "search", "ranker"))
    assert RANKER in out
    assert "perso-team" in out
    assert RANKER not in ok(cli("graph", "search", "ranker", "--kind", "dataset"))
    out = ok(cli("graph", "search", "item", "--domain", "ads"))
    assert EMBEDDING in out and FEATURE not in out
    assert "no node matches" in ok(cli("graph", "search", "zzzyzzx"))


def test_show_lists_properties_edges_and_history(cli: Cli) -> None:
    out = ok(cli("graph", "show", DATA))
    assert "MovieLens ratings" in out and "rows" in out
    assert FEATURE in out and RANKER in out  # edges in
    graph = Graph.open(cli.database_url)
    try:
        graph.add(DATA, owner="data-eng", description="MovieLens ratings, fixed")
    finally:
        graph.close()
    out = ok(cli("graph", "show", DATA, "--history"))
    assert "revisions" in out and "MovieLens ratings, fixed" in out
    assert out.count("data-eng") >= 3  # panel plus two revisions


def test_show_as_of_reads_the_past(cli: Cli) -> None:
    before = datetime.now(UTC).isoformat()
    graph = Graph.open(cli.database_url)
    try:
        graph.add(RANKER, owner="new-owner", description="Homepage ranker v2")
    finally:
        graph.close()
    assert "Homepage ranker v2" in ok(cli("graph", "show", RANKER))
    past = ok(cli("graph", "show", RANKER, "--as-of", before))
    assert "Homepage ranker v2" not in past and "perso-team" in past


def test_lineage_tree_and_json(cli: Cli) -> None:
    out = ok(cli("graph", "lineage", RANKER))
    assert FEATURE in out and DATA in out and "uses_feature" in out
    data = json.loads(ok(cli("graph", "lineage", RANKER, "--json")))
    assert data["root"] == RANKER
    assert {n["uri"] for n in data["nodes"]} == {RANKER, FEATURE, DATA}
    only = json.loads(ok(cli("graph", "lineage", RANKER, "--edge-kind", "trained_on", "--json")))
    assert {n["uri"] for n in only["nodes"]} == {RANKER, DATA}
    down = json.loads(ok(cli("graph", "lineage", DATA, "--downstream", "--depth", "1",
                             "--json")))
    assert {n["uri"] for n in down["nodes"]} == {DATA, FEATURE, RANKER}


def test_impact_groups_affected_nodes_with_owners(cli: Cli) -> None:
    data = json.loads(ok(cli("graph", "impact", DATA, "--json")))
    assert [d["uri"] for d in data["affected"]["deployment"]] == [DEPLOYMENT]
    assert data["affected"]["consumer"] == [
        {"uri": CONSUMER, "owner": "homepage-eng", "domain": "personalization", "hops": 3}
    ]
    out = ok(cli("graph", "impact", DATA))
    assert DEPLOYMENT in out and CONSUMER in out and "homepage-eng" in out
    assert "nothing downstream" in ok(cli("graph", "impact", CONSUMER))


def test_similar_and_reuse_candidates(cli: Cli) -> None:
    out = ok(cli("graph", "similar", RANKER))
    assert CTR in out and "item-popularity" in out
    assert EMBEDDING in out  # the ads embedding is a reuse candidate for personalization
    data = json.loads(ok(cli("graph", "similar", RANKER, "--json")))
    assert [s["model"] for s in data["similar"]] == [CTR]
    assert FEATURE in data["similar"][0]["shared"]
    assert [c["input"] for c in data["reuse_candidates"]] == [EMBEDDING]


def test_export_writes_whole_files(cli: Cli, tmp_path: Path) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    target = folder / "ranker.json"
    ok(cli("graph", "export", RANKER, "--format", "json", "-o", str(target)))
    stdout = ok(cli("graph", "export", RANKER, "--format", "json"))
    assert json.loads(target.read_text()) == json.loads(stdout)
    dot = folder / "ranker.dot"
    ok(cli("graph", "export", RANKER, "--format", "dot", "--output", str(dot)))
    assert dot.read_text().startswith("digraph") and f'"{DATA}"' in dot.read_text()
    # No temporary file is left beside the outputs.
    assert sorted(p.name for p in folder.iterdir()) == ["ranker.dot", "ranker.json"]
    # Created as open() creates files (0666 less the umask), not private like a temp file.
    mask = os.umask(0o022)
    os.umask(mask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~mask


def test_path_and_derive(cli: Cli) -> None:
    out = ok(cli("graph", "path", CONSUMER, CLICKS))
    lines = out.strip().splitlines()
    assert lines[0] == CONSUMER and lines[-1].endswith(CLICKS)
    assert "consumed_by" in out
    assert "no path" in ok(cli("graph", "path", CLICKS, ISOLATED))
    graph = Graph.open(cli.database_url)
    try:
        with graph.batch("test") as b:
            b.add("rg://run/personalization/train-1")
            b.add("rg://experiment_cell/personalization/ab/treatment")
            b.add("rg://experiment/personalization/ab")
            b.link(RANKER, "produced_by", "rg://run/personalization/train-1")
            b.link("rg://run/personalization/train-1", "part_of",
                   "rg://experiment_cell/personalization/ab/treatment")
            b.link("rg://experiment_cell/personalization/ab/treatment", "part_of",
                   "rg://experiment/personalization/ab")
    finally:
        graph.close()
    row = r"model-in-experiment\W+{}\W+{}\W+{}\W"  # rule, added, removed, kept
    assert re.search(row.format(1, 0, 0), ok(cli("graph", "derive")))
    assert "rg://experiment/personalization/ab" in ok(cli("graph", "impact", DATA))
    assert re.search(row.format(0, 0, 1), ok(cli("graph", "derive")))


BAD_INPUT = [
    (("graph", "show", "rg://model/personalization/no-such-model@9"), "does not exist"),
    (("graph", "show", "not-a-uri"), "is not a reelgraph URI"),
    (("graph", "lineage", "rg://model/only-two"), "lacks a kind, namespace or name"),
    (("graph", "search", "ranker", "--as-of", "last tuesday"), "is not an ISO-8601 time"),
    (("graph", "show", RANKER, "--as-of", "2026-01-01T00:00:00"), "has no time zone"),
    (("graph", "lineage", RANKER, "--depth", "0"), "depth 0 is out of range"),
    (("graph", "lineage", RANKER, "--edge-kind", "likes"), "unknown edge kind 'likes'"),
    (("graph", "similar", DATA), "not a model"),
    (("graph", "impact", "rg://dataset/movielens/missing.csv"), "does not exist"),
    (("graph", "path", RANKER, "rg://model/x/y"), "does not exist"),
    (("graph", "export", RANKER, "--format", "dot", "-o", "/no/such/folder/x.dot"),
     "does not exist"),
    # usage mistakes too: one line and exit code 1, not a box and exit code 2
    (("graph", "show", RANKER, "--no-such-option"), "No such option: --no-such-option"),
    (("graph", "show"), "Missing argument"),
    (("graph", "lineage", RANKER, "--depth", "many"), "Invalid value for '--depth'"),
]


@pytest.mark.parametrize(("args", "problem"), BAD_INPUT, ids=[" ".join(a[1:3]) for a, _ in
                                                               BAD_INPUT])
def test_bad_input_prints_one_red_line(cli: Cli, args: tuple[str, ...], problem: str) -> None:
    result: Any = cli(*args)
    assert result.exit_code == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ") and problem in lines[0] and ". Fix: " in lines[0]
    assert "Traceback" not in result.output


def test_bad_settings_print_one_red_line(tmp_path: Path) -> None:
    runner = CliRunner(env={"COLUMNS": "250"})
    result: Any = runner.invoke(app, ["--database-url", "mysql://db/x", "graph", "search", "a"])
    assert result.exit_code == 1
    assert result.stderr.startswith("error: no metadata store for the URL 'mysql://db/x'")
    (tmp_path / "reelgraph.toml").write_text("not = [valid")
    result = runner.invoke(app, ["graph", "search", "a"], env={"REELGRAPH_HOME": str(tmp_path)})
    assert result.exit_code == 1
    assert len(result.stderr.splitlines()) == 1 and "is not valid TOML" in result.stderr
