"""A new user's first hour: the first demo is small, says what ran and how to run the full
one, shows its stages when piped, and everything it (and the CLI at 100 columns) prints as
an identifier can be typed back."""

from __future__ import annotations

import re

import pytest
from cli_harness import Cli
from demo_runs import DEMO_TIMEOUT_S, DemoRuns
from typer.testing import CliRunner

from reelgraph.demo import SMALL, catalog

pytestmark = [pytest.mark.slow, pytest.mark.timeout(2 * DEMO_TIMEOUT_S)]

URI = re.compile(r"rg://[^\s│┃,;()'\"`]+")
STAGES = ("registering the data and the catalog", "training PureSVD", "embedding 1,000 titles",
          "training the unified recommender", "precomputing nearline answers",
          "ingesting 4 clips")


def cli_at(demo_runs: DemoRuns, columns: int) -> Cli:
    home = demo_runs.home
    return Cli(home, f"sqlite:///{home / 'reelgraph.db'}",
               runner=CliRunner(env={"COLUMNS": str(columns)}))


def first_column(table: str) -> list[str]:
    """The first cell of each body row of a Rich table (rows start with a space)."""
    rows = [line for line in table.splitlines() if "│" in line]
    return [cell for line in rows if (cell := line.split("│")[0].strip())]


def test_the_first_run_is_small_says_so_and_shows_its_stages_when_piped(
        demo_runs: DemoRuns) -> None:
    first = demo_runs.first
    assert first.startswith(f"configuration {SMALL.describe()}")
    assert "`reelgraph demo --full`" in first
    assert "\x1b[" not in first  # piped: plain lines, no terminal control codes
    lines = first.splitlines()
    for name in STAGES:
        number = next(line.split(":")[0] for line in lines
                      if line.startswith("stage ") and name in line)
        assert f"{number}: {name}" in first and any(
            line.startswith(number) and " done in " in line for line in lines), name
    assert f"embedding {SMALL.titles:,} titles" in first


def test_every_model_uri_the_demo_prints_resolves_in_models_show(demo_runs: DemoRuns) -> None:
    cli = cli_at(demo_runs, 200)
    models = {u for u in URI.findall(demo_runs.first) if u.startswith("rg://model/")}
    assert f"{catalog.RANKER_V2}" in models  # declared in the graph only
    assert "rg://model/personalization/unified-recommender@1" in models  # registered
    for uri in sorted(models):
        cli.ok("models", "show", uri)
    declared = cli.ok("models", "show", catalog.RANKER_V2).stdout
    assert "declared in the lineage graph only" in declared


def test_the_demo_says_which_baseline_wins_and_flags_generic_answers(
        demo_runs: DemoRuns) -> None:
    first = demo_runs.first
    assert "promotion gates of rg://model/personalization/unified-recommender@1" in first
    assert "staging -> production" in first and "passed" in first
    assert "test users (paired bootstrap)" in first  # PureSVD's gain comes with its interval
    related = next(line for line in first.splitlines() if line.startswith("related(item='1')"))
    flagged = "generic, not related" in first
    popular = ("Shawshank Redemption", "Pulp Fiction", "Forrest Gump")
    if sum(title in related for title in popular) >= 2:
        assert flagged  # a popular-titles answer is never shown as "related" unremarked


def test_every_identifier_printed_at_100_columns_can_be_typed_back(demo_runs: DemoRuns) -> None:
    cli = cli_at(demo_runs, 100)
    printed = {
        args: cli.ok(*args).stdout for args in (
            ("graph", "search", "ranker"), ("graph", "show", catalog.RANKER_V2),
            ("graph", "lineage", catalog.RANKER_V2), ("graph", "impact", catalog.RATINGS),
            ("graph", "similar", catalog.RANKER_V2), ("models", "list"),
            ("models", "show", "personalization/unified-recommender"), ("runs", "list"),
            ("media", "list"), ("features", "list"))
    }
    uris = set(URI.findall("\n".join(printed.values())))
    assert len(uris) > 20
    for uri in sorted(uris):  # a folded or cut URI is not found
        cli.ok("graph", "show", uri)
    for name in first_column(printed[("models", "list")]):
        cli.ok("models", "show", name)
    for run in first_column(printed[("runs", "list")]):
        cli.ok("runs", "show", run)
    for asset in first_column(printed[("media", "list")]):
        cli.ok("media", "shots", asset)
    for feature in first_column(printed[("features", "list")]):
        cli.ok("features", "show", feature)
