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
    (code,) = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    exec(compile(code, str(README), "exec"), {})
    lineage, hits = capsys.readouterr().out.splitlines()
    assert ast.literal_eval(lineage) == [
        "rg://model/shop/churn@1", "rg://feature/shop/basket-size", "rg://dataset/shop/orders"
    ]
    assert "rg://model/shop/churn@1" in ast.literal_eval(hits)
    assert (tmp_path / "reelgraph.db").exists()
