"""The README's promises: it opens with the two commands, and its Python example runs."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_opens_with_the_two_commands() -> None:
    block = README.read_text().split("```")[1]
    commands = [line.split("#")[0].strip() for line in block.strip().splitlines()]
    assert commands == ["scripts/reelgraph demo", "scripts/check"]


def test_the_python_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("REELGRAPH_HOME", str(tmp_path))
    monkeypatch.delenv("REELGRAPH_DATABASE_URL", raising=False)
    code = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)[0]
    exec(compile(code, str(README), "exec"), {})
    lineage, hits = capsys.readouterr().out.splitlines()
    assert ast.literal_eval(lineage) == [
        "rg://model/shop/churn@1", "rg://feature/shop/basket-size", "rg://dataset/shop/orders"
    ]
    assert "rg://model/shop/churn@1" in ast.literal_eval(hits)
    assert (tmp_path / "reelgraph.db").exists()


def test_the_flow_example_runs(tmp_path: Path) -> None:
    from reelgraph.core import Settings
    from reelgraph.flows import Runner, Workspace

    code = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)[1]
    names: dict[str, object] = {"__name__": "readme_flow"}
    exec(compile(code, str(README), "exec"), names)
    with Workspace.open(Settings.load(home=str(tmp_path), database_url="")) as ws:
        run = Runner(ws).run(names["flow"], {"min_count": "3"})  # type: ignore[arg-type]
        assert run.status == "succeeded", run.error
        assert ws.load(run.id, "report") == (5 + 6 + 6) * 3
        assert ws.load(run.id, "count", 2) == 6 * 3


def test_the_feature_store_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("REELGRAPH_HOME", str(tmp_path))
    monkeypatch.delenv("REELGRAPH_DATABASE_URL", raising=False)
    code = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)[2]
    exec(compile(code, str(README), "exec"), {"__name__": "readme_features"})
    values, computed, reused = capsys.readouterr().out.rsplit(" ", 2)
    assert ast.literal_eval(values) == {"1": 2, "2": 1, "3": 1}
    assert (int(computed), int(reused)) == (3, 3)
