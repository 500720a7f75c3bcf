"""Shared fixtures: a fresh graph per test on SQLite, and on PostgreSQL when it is reachable.

PostgreSQL tests create their own database and drop it afterwards. Where no server answers
they skip with the reason, unless REELGRAPH_REQUIRE_POSTGRES=1 (as .ci/run sets), which
turns the skip into a failure so CI cannot pass without them.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from shared_data import SHARED_DATA, missing

from reelgraph.graph import Graph

if TYPE_CHECKING:
    import psycopg

PG_ADMIN_URL = os.environ.get(
    "REELGRAPH_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def _admin() -> psycopg.Connection[tuple[object, ...]]:
    import psycopg

    return psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3)


# Under pytest-xdist (scripts/check runs -n with --dist loadgroup) a worker takes a whole test
# file, so a module fixture is built once, not once per worker; and a whole folder where its
# session fixtures are costly and stateful (a served demo home and a browser; two demo runs).
WHOLE_FOLDERS = {"ui", "e2e"}


@pytest.hookimpl(tryfirst=True)  # before xdist reads the marks into the test ids
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not config.pluginmanager.has_plugin("xdist"):
        return
    tests = config.rootpath / "tests"
    for item in items:
        where = item.path.relative_to(tests) if item.path.is_relative_to(tests) else item.path
        group = where.parts[0] if where.parts[0] in WHOLE_FOLDERS else where.as_posix()
        item.add_marker(pytest.mark.xdist_group(group))


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A new, empty PostgreSQL database for one test."""
    try:
        admin = _admin()
    except Exception as exc:  # the server may be absent on a developer's machine
        if os.environ.get("REELGRAPH_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"PostgreSQL is required here but unreachable at {PG_ADMIN_URL}: {exc}")
        pytest.skip(f"no PostgreSQL at {PG_ADMIN_URL} ({exc}); set REELGRAPH_TEST_POSTGRES_URL")
    name = f"rg_test_{uuid.uuid4().hex[:12]}"
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    # The connection closes however this ends: a failed CREATE or DROP (a test that left a
    # session open in its database) once left it to the garbage collector, open.
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield f"{base}/{name}"
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'graph.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def graph_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty metadata database, once per back-end (the contract suite)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'graph.db'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def graph(graph_url: str) -> Iterator[Graph]:
    g = Graph.open(graph_url)
    try:
        yield g
    finally:
        g.close()


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.exists():
        pytest.skip(missing(SHARED_DATA))
    return SHARED_DATA
