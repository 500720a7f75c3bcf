"""``import reelgraph.cli`` stays light: the server stack and migrations load only when used."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("fastapi", "uvicorn", "alembic", "starlette")


def test_importing_the_cli_loads_no_server_or_migration_modules() -> None:
    code = (
        "import sys, reelgraph.cli\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r}))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True).stdout.strip()
    assert loaded == "[]"


def test_help_lists_every_command() -> None:
    from typer.testing import CliRunner

    from reelgraph.cli import app

    out = CliRunner(env={"COLUMNS": "200"}).invoke(app, ["graph", "--help"]).stdout
    for command in ("search", "show", "lineage", "impact", "similar", "export", "path", "derive"):
        assert command in out
    top = CliRunner(env={"COLUMNS": "200"}).invoke(app, ["--help"]).stdout
    assert "demo" in top and "serve" in top and "--home" in top and "--database-url" in top


def test_flags_show_no_value_type_in_help() -> None:
    from typer.testing import CliRunner

    from reelgraph.cli import app

    out = CliRunner(env={"COLUMNS": "120"}).invoke(app, ["demo", "--help"]).stdout
    assert "--full" in out and "--help" in out
    assert "<bool>" not in out  # a flag takes no value
    assert "<path>" in out  # an option that takes one still says what
