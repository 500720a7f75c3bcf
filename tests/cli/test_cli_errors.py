"""The CLI's error contract under an unlucky operator (issue 16, item 9): one red line and
exit 1, never a traceback, never a password, and a refused ``demo --data`` writes nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from cli_harness import Cli
from typer.testing import CliRunner

from reelgraph.cli import app
from reelgraph.graph import Graph


def one_red_line(result: Any) -> str:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Fix: " in lines[0], lines
    line: str = lines[0]
    return line


def test_an_unreachable_postgresql_is_one_line_without_its_password() -> None:
    result = CliRunner(env={"COLUMNS": "250"}).invoke(app, [
        "--database-url", "postgresql://bob:hunter2secret@127.0.0.1:1/db", "graph", "search",
        "ratings"])
    line = one_red_line(result)
    assert "hunter2secret" not in line and "postgresql://bob:***@127.0.0.1:1/db" in line


def test_an_unwritable_home_is_one_line() -> None:
    result = CliRunner(env={"COLUMNS": "250"}).invoke(app, [
        "--home", "/proc/reelgraph-home", "graph", "search", "ratings"])
    assert "/proc/reelgraph-home" in one_red_line(result)


@pytest.mark.parametrize("url", ["http://127.0.0.1:1/clip.mp4", "s3://bucket/clip.mp4",
                                 "gs://bucket/clip.mp4", "nosuchscheme://x/clip.mp4"])
def test_media_add_of_a_url_without_its_backend_is_one_line(tmp_path: Path, url: str) -> None:
    cli = Cli(tmp_path / "home", f"sqlite:///{tmp_path / 'home' / 'reelgraph.db'}")
    result = cli("media", "add", url)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "error: " in result.stderr and "Fix: " in result.stderr


def test_demo_with_empty_csvs_refuses_before_writing(tmp_path: Path) -> None:
    release = tmp_path / "data" / "ml-latest-small"
    release.mkdir(parents=True)
    (release / "ratings.csv").write_text("userId,movieId,rating,timestamp\n")
    (release / "movies.csv").write_text("")
    (release / "tags.csv").write_text("")
    home = tmp_path / "home"
    result = CliRunner(env={"COLUMNS": "250"}).invoke(app, [
        "--home", str(home), "demo", "--data", str(tmp_path / "data")])
    assert "ratings.csv has no rows" in one_red_line(result)
    graph = Graph.open(f"sqlite:///{home / 'reelgraph.db'}")
    try:
        assert graph.find(limit=10) == []
    finally:
        graph.close()
