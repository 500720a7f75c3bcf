"""``reelgraph features list|show|get|neighbors|compute|verify|sync|compact`` on SQLite and
PostgreSQL metadata with the SQLite online store and the FAISS index: genre vectors of a few
MovieLens titles defined in a temporary file; errors are one red line and exit code 1."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest
from cli_harness import Cli

from reelgraph.core import Settings
from reelgraph.features.online import open_online_store
from reelgraph.features.ports import FeatureRef

FEATURES = '''
from reelgraph.features import EntityType, FeatureSet, Scalar, Vector

GENRES = ("Animation", "Comedy", "Drama", "Thriller")
TITLES = {1: "Animation|Comedy", 2: "Comedy", 3: "Drama|Thriller", 4: "Drama|Thriller",
          5: "Animation|Comedy", 6: "Drama"}
TITLE = EntityType("title", int)
features = FeatureSet("movielens")


@features.feature(entity=TITLE, value=Vector(4), online=True, vector=True)
def genres(keys):
    return {k: [float(g in TITLES[int(k)].split("|")) for g in GENRES] for k in keys}


@features.feature(entity=TITLE, value=Scalar("string"), online=True)
def main_genre(keys, genres):
    return {k: GENRES[max(range(4), key=lambda i: genres[k][i])] for k in keys}


@features.feature(entity=TITLE, value=Scalar("int64"))
def genre_count(keys):  # offline only: no replica
    return {k: len(TITLES[int(k)].split("|")) for k in keys}
'''.replace("online=True)\ndef main_genre", "online=True, depends_on=['genres'])\ndef main_genre")


@dataclass
class FeaturesCli(Cli):
    file: Path = Path("features.py")  # the feature definitions the tests register


@pytest.fixture
def cli(tmp_path: Path, graph_url: str) -> FeaturesCli:
    file = tmp_path / "movielens_features.py"
    file.write_text(textwrap.dedent(FEATURES))
    return FeaturesCli(tmp_path / "home", graph_url, ("features",), file=file)


def test_list_registers_the_file_and_show_reads_the_graph(cli: FeaturesCli) -> None:
    assert "no features registered yet" in cli.ok("list").stdout
    table = cli.ok("list", "--file", str(cli.file)).stdout
    assert "movielens/genres" in table and "movielens/main_genre" in table
    listed = cli.json("list")  # from the graph now, without the file
    assert [f["name"] for f in listed] == ["genre_count", "genres", "main_genre"]
    assert all(not f["loaded"] for f in listed)
    shown = cli.json("show", "movielens/genres")
    assert shown["value"] == {"kind": "vector", "dim": 4} and shown["entity"] == "title"
    by_uri = cli.json("show", shown["uri"])
    assert by_uri["version"] == shown["version"]
    text = cli.ok("show", "movielens/main_genre").stdout
    assert "depends on" in text and "genres" in text and "versions" in text


def test_compute_get_and_neighbors(cli: FeaturesCli) -> None:
    out = cli.ok("compute", "movielens/main_genre", "1", "2", "3", "--file", str(cli.file))
    assert "3 computed" in out.stdout and "0 reused" in out.stdout
    again = cli.json("compute", "movielens/main_genre", "1", "2", "3", "4",
                     "--file", str(cli.file))
    assert again["reused"] == 3 and again["computed"] == ["4"]
    values = cli.json("get", "movielens/main_genre", "1", "3", "6")
    assert values["values"] == {"1": "Animation", "3": "Drama"} and values["missing"] == ["6"]
    table = cli.ok("get", "movielens/genres", "1", "6").stdout
    assert "[1, 1, 0, 0] (4)" in table and "missing" in table
    cli.ok("compute", "movielens/genres", "--all", "--file", str(cli.file), "--batch-size", "2")
    near = cli.json("neighbors", "movielens/genres", "--key", "3", "-k", "1")
    assert [n["key"] for n in near["neighbors"]] == ["4"]
    by_vector = cli.json("neighbors", "movielens/genres", "--vector", "1,1,0,0", "-k", "3")
    # 1 is the same vector; 2 shares Comedy
    assert {n["key"] for n in by_vector["neighbors"][:2]} == {"1", "2"}
    assert by_vector["neighbors"][0]["score"] == pytest.approx(1.0)
    assert "rank" in cli.ok("neighbors", "movielens/genres", "--key", "1").stdout
    cli.ok("compute", "movielens/genre_count", "1", "3", "--file", str(cli.file))
    offline = cli.json("get", "movielens/genre_count", "1", "3", "6")  # kept offline only
    assert offline["source"] == "offline" and offline["values"] == {"1": 2, "3": 2}
    assert "vector[4]" in cli.ok("list").stdout  # a vector's type, not a bare number


def test_requests_are_queued_then_served_by_a_worker_pass(cli: FeaturesCli) -> None:
    cli.ok("compute", "movielens/genres", "1", "--file", str(cli.file))
    queued = cli.json("request", "movielens/genres", "1", "2", "3")
    assert queued["queued"] == ["2", "3"]  # 1 is stored already
    assert cli.json("request", "movielens/genres", "2")["queued"] == []  # queued already
    assert cli.json("get", "movielens/genres", "2", "3")["missing"] == ["2", "3"]
    served = cli.ok("serve", "--once", "--file", str(cli.file)).stdout
    assert "2 computed" in served
    assert cli.json("get", "movielens/genres", "2", "3")["missing"] == []
    assert "computed" not in cli.ok("serve", "--once", "--file", str(cli.file)).stdout


def test_verify_and_sync(cli: FeaturesCli) -> None:
    cli.ok("compute", "movielens/genres", "1", "2", "--file", str(cli.file))
    assert "in sync" in cli.ok("verify", "movielens/genres").stdout
    version = cli.json("show", "movielens/genres")["version"]
    online = open_online_store(settings=Settings.load(home=cli.home))
    try:
        online.put(FeatureRef("movielens", "genres", version, "title",
                              {"kind": "vector", "dim": 4}),
                   {"77": [0.0, 0.0, 0.0, 1.0]})  # a value the offline store never had
    finally:
        online.close()
    line = cli.fails("verify", "movielens/genres")
    assert "differs" in line and "reelgraph features sync" in line
    repaired = cli.json("sync", "movielens/genres")
    assert repaired["replicas"]["online"]["sample_extra"] == ["77"]
    assert cli.json("verify", "movielens/genres")["ok"] is True
    assert "in sync" in cli.ok("sync", "movielens/genres").stdout


def test_compact_merges_the_offline_files_and_reads_answer_the_same(cli: FeaturesCli) -> None:
    for key in ("1", "3", "5"):  # one offline file per computation
        cli.ok("compute", "movielens/genre_count", key, "--file", str(cli.file))
    before = cli.json("get", "movielens/genre_count", "1", "3", "5", "6")
    done = cli.json("compact", "movielens/genre_count")
    assert (done["files_before"], done["files_after"], done["rows"]) == (3, 1, 3)
    assert cli.json("get", "movielens/genre_count", "1", "3", "5", "6") == before
    again = cli.ok("compact", "movielens/genre_count").stdout
    assert "Parquet files 1 -> 1 (0 rows merged)" in again


def test_errors_are_one_red_line(cli: FeaturesCli) -> None:
    cli.ok("compute", "movielens/genres", "1", "--file", str(cli.file))
    assert "no feature movielens/genre is registered" in cli.fails("show", "movielens/genre")
    assert "does not name a feature" in cli.fails("show", "genres")
    assert "integers" in cli.fails("get", "movielens/genres", "abc", "--file", str(cli.file))
    assert "3 numbers, not 4" in cli.fails("neighbors", "movielens/genres", "--vector", "1,0,0")
    assert "k=0" in cli.fails("neighbors", "movielens/genres", "--key", "1", "-k", "0")
    assert "not a list of numbers" in cli.fails("neighbors", "movielens/genres",
                                                "--vector", "a,b")
    assert "needs the feature's code" in cli.fails("compute", "movielens/genres", "2")
    assert "no feature file" in cli.fails("compute", "movielens/genres", "2", "--file", "x.py")
    failed = cli.fails("compute", "movielens/genres", "2", "42", "--file", str(cli.file))
    assert "1 entities" in failed  # title 42 has no genres; title 2 is still stored
    assert cli.json("get", "movielens/genres", "2", "42")["missing"] == ["42"]
