"""``reelgraph models ...`` on SQLite and PostgreSQL, over a real flow run: register, gates,
promote (a refusal is one red line with its numbers), subscribe, history, list and show."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from typer.testing import CliRunner

from reelgraph.cli import app
from reelgraph.core import Settings
from reelgraph.flows import Runner, Workspace, load_flow

FLOW_FILE = Path(__file__).parents[1] / "flows" / "registry_flow.py"
NAME = "personalization/popularity"


@dataclass
class Cli:
    home: Path
    database_url: str
    run_id: str
    data: ModuleType
    runner: CliRunner

    def __call__(self, *args: str) -> Any:
        return self.runner.invoke(app, ["--home", str(self.home), "--database-url",
                                        self.database_url, *args])


@pytest.fixture
def cli(tmp_path: Path, graph_url: str) -> Iterator[Cli]:
    with Workspace.open(Settings.load(home=tmp_path, database_url=graph_url)) as ws:
        flow = load_flow(FLOW_FILE, "popularity")
        data = sys.modules[flow.steps["ratings"].fn.__module__]
        data.seed(ws.graph)
        run = Runner(ws).run(flow)
    yield Cli(tmp_path, graph_url, run.id, data, CliRunner(env={"COLUMNS": "200"}))


def test_register_gate_promote_subscribe_and_history(cli: Cli) -> None:
    done = cli("models", "register", NAME, "--run", cli.run_id, "--metric", "ndcg@10=0.25",
               "--owner", "perso-team", "--signature", '{"inputs": {"user": "int"}}')
    assert done.exit_code == 0, done.output
    assert "registered personalization/popularity v1" in done.stdout
    gates = cli("models", "gates", NAME, "--not-worse", "ndcg@10=0.01", "--at-least",
                "ndcg@10=0.2")
    assert gates.exit_code == 0, gates.output
    assert "metric_not_worse:ndcg@10" in gates.stdout and "metric_at_least:ndcg@10" in gates.stdout
    assert cli("models", "promote", NAME, "1", "staging", "--who", "ana").exit_code == 0
    shipped = cli("models", "promote", NAME, "1", "production", "--who", "ana", "--why", "A/B")
    assert shipped.exit_code == 0, shipped.output
    assert "staging → production" in shipped.stdout and "✓ ndcg@10 = 0.25" in shipped.stdout

    cli("models", "register", NAME, "--run", cli.run_id, "--metric", "ndcg@10=0.212")
    cli("models", "promote", NAME, "2", "staging", "--who", "bob")
    refused = cli("models", "promote", NAME, "2", "production", "--who", "bob")
    assert refused.exit_code == 1
    line = refused.stderr.strip()
    assert "\n" not in line and line.startswith("error: promotion of personalization/popularity")
    assert "ndcg@10 = 0.212 is worse than production v1's 0.25 by 0.038" in line

    subscribed = cli("models", "subscribe", NAME, "messaging/notifications-service",
                     "--owner", "msg-team")
    assert subscribed.exit_code == 0 and "messaging/notifications-service" in subscribed.stdout
    impact = cli("graph", "impact", cli.data.DATASET)
    assert "rg://consumer/messaging/notifications-service" in impact.stdout

    history = cli("models", "history", NAME)
    assert history.exit_code == 0
    assert "refused" in history.stdout and "A/B" in history.stdout
    moves = json.loads(cli("models", "history", NAME, "--json").stdout)
    assert [(m["version"], m["to_stage"], m["outcome"]) for m in moves] == [
        (1, "staging", "applied"), (1, "production", "applied"), (2, "staging", "applied"),
        (2, "production", "refused")]
    listed = cli("models", "list")
    assert "personalization/popularity" in listed.stdout and "perso-team" in listed.stdout
    shown = json.loads(cli("models", "show", NAME, "--json").stdout)
    assert [v["stage"] for v in shown["versions"]] == ["production", "staging"]
    assert len(shown["gates"]) == 2 and shown["consumers"][0]["owner"] == "msg-team"
    table = cli("models", "show", NAME)
    assert "production v1" in table.stdout and "ndcg@10=0.25" in table.stdout


BAD = [
    (["register", NAME, "--run", "nope"], "no run with id 'nope'"),
    (["register", NAME, "--run", "RUN", "--metric", "ndcg"], "is not METRIC=NUMBER"),
    (["register", NAME, "--run", "RUN", "--signature", "[1]"], "not a JSON object"),
    (["register", NAME, "--run", "RUN", "--step", "fit"], "has no task 'fit'"),
    (["promote", NAME, "1", "production"], "cannot move from none to production"),
    (["promote", NAME, "1", "live"], "unknown stage 'live'"),
    (["promote", "x/y", "1", "staging"], "no model named 'x/y'"),
    (["gates", NAME, "--at-most", "latency=fast"], "is not METRIC=NUMBER"),
    (["gates", NAME, "--remove", "metric_at_least:nope"], "has no gate"),
    (["subscribe", NAME, "nonamespace"], "consumer name 'nonamespace'"),
    (["history", "popularity"], "is not NAMESPACE/NAME"),
]


def test_bad_input_is_one_red_line_and_stores_nothing(cli: Cli) -> None:
    assert cli("models", "register", NAME, "--run", cli.run_id).exit_code == 0
    before = cli("models", "show", NAME, "--json").stdout
    for args, words in BAD:
        result = cli("models", *[cli.run_id if a == "RUN" else a for a in args])
        assert result.exit_code == 1, (args, result.output)
        line = result.stderr.strip()
        assert "\n" not in line and line.startswith("error: "), line
        assert words in line and "Fix:" in line, (words, line)
    assert cli("models", "show", NAME, "--json").stdout == before
