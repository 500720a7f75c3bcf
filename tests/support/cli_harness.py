"""Running ``reelgraph`` in-process for CLI tests, with the checks every such test makes."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from reelgraph.cli import app


@dataclass
class Cli:
    """``reelgraph --home HOME --database-url URL [PREFIX...] ARGS...``."""

    home: Path
    database_url: str
    prefix: tuple[str, ...] = ()  # e.g. ("features",)
    runner: CliRunner = field(default_factory=lambda: CliRunner(env={"COLUMNS": "200"}))

    def __call__(self, *args: str) -> Any:
        return self.runner.invoke(app, ["--home", str(self.home), "--database-url",
                                        self.database_url, *self.prefix, *args])

    def ok(self, *args: str) -> Any:
        result = self(*args)
        assert result.exit_code == 0, result.output
        return result

    def json(self, *args: str) -> Any:
        return json.loads(self.ok(*args, "--json").stdout)

    def fails(self, *args: str) -> str:
        """The one red error line (exit code 1), last on stderr: a notice may come before it
        (e.g. "loading the model here"), a traceback or a second error never."""
        result = self(*args)
        assert result.exit_code == 1, result.output
        lines = result.stderr.strip().splitlines()
        assert lines and lines[-1].startswith("error: ") and "Fix: " in lines[-1], lines
        assert not any(line.startswith(("error: ", "Traceback")) for line in lines[:-1]), lines
        return lines[-1]
