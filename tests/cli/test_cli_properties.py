"""Property-based tests per CLI command family (issue 16, item 9): extreme numbers, empty and
huge strings and odd Unicode on the command line never make ``reelgraph`` print a traceback.
Every run exits 0, 1 (one red ``error: ... Fix: ...`` line, last on stderr) or 2 (Click's
usage error). Bounded (``max_examples``) so the whole file runs in about a minute."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from cli_harness import Cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

BOUNDED = settings(max_examples=12, deadline=None, derandomize=True, database=None,
                   suppress_health_check=list(HealthCheck))
# What argv can carry: any text but NUL (a C string ends there); lone surrogates stand for
# bytes that are not UTF-8 (Python decodes argv with surrogateescape).
odd = st.characters(blacklist_characters="\x00", blacklist_categories=["Cs"])
text = st.one_of(st.text(odd, max_size=30),
                 st.sampled_from(["", " ", "-", "--", "%", "_", "rg://", "rg://x/y/z@",
                                  "../" * 30, "x" * 100_000, "é" * 500, "\udcff\udc80",
                                  "\u202e\u200b", "🎬" * 50, "1e309", "nan", "-inf"]))
numbers = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.floats().map(repr),  # nan, inf and the extremes included
    st.sampled_from(["0", "-0", "9" * 400, "1e300", "-1e-320", "0x10", "1_000", "", " 3"]))


@pytest.fixture(scope="module")
def cli(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cli]:
    home = tmp_path_factory.mktemp("cli-properties")
    yield Cli(home, f"sqlite:///{home / 'reelgraph.db'}")


def keeps_the_contract(result: Any) -> None:
    assert result.exit_code in (0, 1, 2), (result.exit_code, result.output[-2000:])
    assert "Traceback" not in result.output, result.output[-4000:]
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"uncaught {result.exception!r}")
    if result.exit_code == 1:
        lines = result.stderr.strip().splitlines()
        assert lines and lines[-1].startswith("error: ") and "Fix: " in lines[-1], lines
        assert sum(line.startswith("error: ") for line in lines) == 1, lines


def argv(*parts: st.SearchStrategy[Any]) -> st.SearchStrategy[list[str]]:
    return st.tuples(*parts).map(lambda args: [str(a) for a in args])


def word(value: str) -> st.SearchStrategy[str]:
    return st.just(value)


GRAPH = st.one_of(
    argv(word("search"), text, word("--limit"), numbers),
    argv(word("search"), text, word("--as-of"), st.one_of(text, numbers)),
    argv(word("search"), text, word("--tag"), text, word("--kind"), text),
    argv(word("show"), text),
    argv(word("show"), text, word("--as-of"), numbers),
    argv(word("lineage"), text, word("--depth"), numbers),
    argv(word("path"), text, text),
    argv(word("similar"), text),
)
MEDIA = st.one_of(
    argv(word("show"), text),
    argv(word("list"), word("--namespace"), text),
    argv(word("frames"), text, word("--fps"), numbers, word("--size"), numbers,
         word("--limit"), numbers),
    argv(word("frames"), text, word("--start"), numbers, word("--end"), numbers),
    argv(word("add"), text),
)
FEATURES = st.one_of(
    argv(word("get"), text, text),
    argv(word("show"), text),
    argv(word("neighbors"), text, word("--key"), text),
    argv(word("verify"), text),
    argv(word("get"), text, text, word("--version"), text),
)
RUNS = st.one_of(
    argv(word("runs"), word("show"), text),
    argv(word("runs"), word("logs"), text),
    argv(word("runs"), word("list"), word("--limit"), numbers, word("--status"), text),
    argv(word("runs"), word("resume"), text),
    argv(word("events"), word("retry"), text),
    argv(word("events"), word("list"), word("--flow"), text),
)
MODELS = st.one_of(
    argv(word("show"), text),
    argv(word("history"), text, word("--version"), numbers),
    argv(word("promote"), text, numbers),
    argv(word("gates"), text),
)
RECSYS = st.one_of(
    argv(word("recommend"), text, word("--user"), numbers, word("--k"), numbers),
    argv(word("recommend"), word("home"), word("--user"), numbers, word("--time"), numbers),
    argv(word("recommend"), word("search"), word("--query"), text),
    argv(word("recommend"), word("similar"), word("--item"), numbers),
)
OPS = st.one_of(
    argv(word("check"), text),
    argv(word("incidents"), text, word("--status"), text),
    argv(word("diagnose"), text),
    argv(word("alerts"), text),
)
MATCHCUT = st.one_of(
    argv(word("list"), word("--limit"), numbers, word("--min-score"), numbers),
    argv(word("list"), word("--kind"), text, word("--title"), text),
    argv(word("find"), text, word("--k"), numbers),
    argv(word("review"), text),
)
FAMILIES = {"graph": GRAPH, "media": MEDIA, "features": FEATURES, "models": MODELS,
            "recsys": RECSYS, "ops": OPS, "matchcut": MATCHCUT}


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_hostile_arguments_keep_the_error_contract(cli: Cli, family: str) -> None:
    @BOUNDED
    @given(args=FAMILIES[family])
    def check(args: list[str]) -> None:
        keeps_the_contract(cli(family, *args))

    check()


@BOUNDED
@given(args=RUNS)
def test_hostile_arguments_keep_the_error_contract_for_runs_and_events(
        cli: Cli, args: list[str]) -> None:
    keeps_the_contract(cli(*args))


def test_the_contract_check_would_see_a_broken_promise(cli: Cli) -> None:
    """The check itself: it passes a real one-line error and fails on a traceback or on two
    error lines (so the properties above could fail)."""
    keeps_the_contract(cli("graph", "show", "rg://dataset/none/such"))
    broken = [SimpleNamespace(exit_code=1, output="Traceback (most recent call last):",
                              stderr="error: x. Fix: y", exception=None),
              SimpleNamespace(exit_code=1, output="", exception=None,
                              stderr="error: a. Fix: b\nerror: c. Fix: d"),
              SimpleNamespace(exit_code=3, output="", stderr="", exception=None)]
    for result in broken:
        with pytest.raises(AssertionError):
            keeps_the_contract(result)
