"""``reelgraph run``, ``runs list|show|logs|resume``, ``worker`` and ``events list`` on
SQLite and PostgreSQL: a run's report, a failure (one red line with the hints, exit 1), its
logs and traceback, and resume after the cause is fixed."""

from __future__ import annotations

import json
import re
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from reelgraph.cli import app
from reelgraph.core import Settings
from reelgraph.flows import Workspace


@dataclass
class Cli:
    home: Path
    database_url: str
    runner: CliRunner

    def __call__(self, *args: str) -> Any:
        return self.runner.invoke(app, ["--home", str(self.home), "--database-url",
                                        self.database_url, *args])

    def json(self, *args: str) -> Any:
        result = self(*args, "--json")
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)


@pytest.fixture
def cli(tmp_path: Path, graph_url: str) -> Cli:
    return Cli(tmp_path / "home", graph_url, CliRunner(env={"COLUMNS": "200"}))


def write(path: Path, body: str) -> Path:
    path.write_text("from pathlib import Path\nfrom reelgraph.flows import Flow\n\n"
                    + textwrap.dedent(body))
    return path


@pytest.fixture
def counting(tmp_path: Path) -> Path:
    """A flow whose last step needs a file named by a parameter and fails the first time it
    sees a marker parameter: a failure caused by a parameter, and a flaky step."""
    return write(tmp_path / "counting.py", """
        flow = Flow("counting", namespace="tests",
                    params={"n": 3, "needs": "", "flaky_marker": ""})

        @flow.step
        def numbers(n):
            print(f"making {n} numbers")
            return list(range(n))

        @flow.step(foreach="numbers")
        def square(item):
            return item * item

        @flow.step
        def total(square, needs, flaky_marker):
            if needs and not Path(needs).exists():
                raise FileNotFoundError(f"the input file {needs} is missing")
            if flaky_marker and not Path(flaky_marker).exists():
                Path(flaky_marker).write_text("x")
                raise RuntimeError("flaky: the first attempt fails")
            return sum(square)
    """)


def run_id_of(output: str) -> str:
    found = re.search(r"run (\S+) of flow", output)
    assert found, output
    return found.group(1)


def test_run_reports_its_steps_and_outputs(cli: Cli, counting: Path) -> None:
    result = cli("run", str(counting), "--param", "n=4", "--seed", "7")
    assert result.exit_code == 0, result.output
    run_id = run_id_of(result.stdout)
    assert "succeeded" in result.stdout and "artifact store" in result.stdout
    for step in ("numbers", "square", "total"):
        assert step in result.stdout

    (listed,) = cli.json("runs", "list")
    assert listed["id"] == run_id and listed["status"] == "succeeded"
    shown = cli.json("runs", "show", run_id)
    assert shown["params"]["n"] == 4 and shown["seed"] == 7  # "4" coerced to the default's int
    assert shown["source"] == str(counting.resolve())
    assert len([t for t in shown["tasks"] if t["step"] == "square"]) == 4
    table = cli("runs", "show", run_id)
    assert table.exit_code == 0 and "code hash" in table.stdout
    logs = cli("runs", "logs", run_id, "--step", "numbers")
    assert "making 4 numbers" in logs.stdout and "square" not in logs.stdout

    cached = cli("run", str(counting), "--param", "n=4", "--cache")
    assert cached.exit_code == 0 and "reused" in cached.stdout


def test_a_failure_caused_by_a_parameter_then_resume(cli: Cli, counting: Path,
                                                     tmp_path: Path) -> None:
    needed = tmp_path / "input.csv"
    result = cli("run", str(counting), "--param", f"needs={needed}")
    assert result.exit_code == 1
    run_id = run_id_of(result.stdout)
    errors = result.stderr.strip().splitlines()
    assert len(errors) == 1 and errors[0].startswith(f"error: run {run_id} failed")
    assert "is missing" in errors[0]
    assert f"reelgraph runs logs {run_id}" in errors[0]
    assert f"reelgraph runs resume {run_id}" in errors[0]

    assert cli.json("runs", "list", "--status", "failed")[0]["id"] == run_id
    logs = cli("runs", "logs", run_id)
    assert "Traceback" in logs.stdout and "FileNotFoundError" in logs.stdout

    needed.write_text("user,item\n")  # fix the cause, then resume
    resumed = cli("runs", "resume", run_id)
    assert resumed.exit_code == 0, resumed.output
    new = cli.json("runs", "show", run_id_of(resumed.stdout))
    assert new["resume_of"] == run_id and new["status"] == "succeeded"
    statuses = {t["step"]: t["status"] for t in new["tasks"]}
    assert statuses == {"numbers": "reused", "square": "reused", "total": "succeeded"}


def test_resume_a_flaky_step_with_the_file_given(cli: Cli, counting: Path,
                                                 tmp_path: Path) -> None:
    marker = tmp_path / "flaked"
    failed = cli("run", str(counting), "-p", f"flaky_marker={marker}")
    assert failed.exit_code == 1 and "flaky" in failed.stderr
    run_id = run_id_of(failed.stdout)
    moved = counting.rename(tmp_path / "moved.py")
    missing = cli("runs", "resume", run_id)
    assert missing.exit_code == 1 and "no flow file" in missing.stderr
    resumed = cli("runs", "resume", run_id, "--file", str(moved))
    assert resumed.exit_code == 0, resumed.output
    assert cli.json("runs", "show", run_id_of(resumed.stdout))["status"] == "succeeded"


def test_bad_input_stores_nothing(cli: Cli, counting: Path) -> None:
    for args, words in (
        (["--param", "n=many"], "takes a value of type int"),
        (["--param", "nope=1"], "no parameter"),
        (["--param", "n"], "not NAME=VALUE"),
    ):
        result = cli("run", str(counting), *args)
        assert result.exit_code == 1 and words in result.stderr, result.output
        assert len(result.stderr.strip().splitlines()) == 1
    assert cli.json("runs", "list") == []
    unknown = cli("runs", "show", "no-such-run")
    assert unknown.exit_code == 1 and "no run with id" in unknown.stderr
    assert cli("run", "missing.py").exit_code == 1


def test_worker_and_dead_letters(cli: Cli, tmp_path: Path) -> None:
    folder = tmp_path / "flows"
    folder.mkdir()
    write(folder / "broken.py", """
        flow = Flow("broken", namespace="tests").on_dataset("rg://dataset/ml/ratings")

        @flow.step
        def fit():
            raise ValueError("no user column")
    """)
    first = cli("worker", "--once", "--flows", str(folder), "--max-attempts", "1")
    assert first.exit_code == 0 and "tests/broken" in first.stdout
    settings = Settings.load(home=str(cli.home), database_url=cli.database_url)
    with Workspace.open(settings) as ws:
        ws.graph.add("rg://dataset/ml/ratings", author="t")
    second = cli("worker", "--once", "--flows", str(folder), "--max-attempts", "1")
    assert second.exit_code == 0 and "dead-lettered" in second.stdout
    dead = cli("events", "list", "--dead")
    assert "no user column" in dead.stdout and "rg://dataset/ml/ratings" in dead.stdout
    (event,) = cli.json("events", "list", "--dead")
    assert event["deliveries"][0]["status"] == "dead"
    (run,) = cli.json("runs", "list")
    assert run["trigger"] == f"event:{event['id']}" and run["status"] == "failed"


def test_worker_without_triggered_flows_says_so(cli: Cli, counting: Path) -> None:
    result = cli("worker", "--once", "--flows", str(counting))
    assert result.exit_code == 1 and "declares a trigger" in result.stderr


def test_help_lists_the_run_commands() -> None:
    runner = CliRunner(env={"COLUMNS": "200"})
    top = runner.invoke(app, ["--help"]).stdout
    for command in ("run", "runs", "worker", "events"):
        assert command in top
    runs = runner.invoke(app, ["runs", "--help"]).stdout
    for command in ("list", "show", "logs", "resume"):
        assert command in runs


def test_the_progress_bar_counts_tasks_as_foreach_steps_expand(counting: Path) -> None:
    from rich.progress import Progress

    from reelgraph.cli.runs import _Bar
    from reelgraph.flows import TaskRecord, load_flow

    progress = Progress()
    bar = _Bar(load_flow(counting), progress)
    (task,) = progress.tasks
    assert task.total == 3  # one per step before anything runs
    bar(TaskRecord("r", "numbers", None, "succeeded", 1, "k"))
    for i in range(4):
        bar(TaskRecord("r", "square", i, "running", 1, "k"))
    assert (task.total, task.completed, task.description) == (6, 1, "square")
    bar(TaskRecord("r", "square", 0, "succeeded", 1, "k"))
    assert task.completed == 2
