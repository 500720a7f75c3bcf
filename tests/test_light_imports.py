"""Front doors load only what they need: the CLI, serving and recsys start without PyTorch
or FAISS (recsys and features load them on first use)."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("torch", "faiss")


@pytest.mark.parametrize("module", ["reelgraph.cli", "reelgraph.serving", "reelgraph.recsys"])
def test_importing_loads_no_torch_or_faiss(module: str) -> None:
    code = (f"import sys, {module}\n"
            f"print(sorted({{m.split('.')[0] for m in sys.modules}} & {set(HEAVY)!r}))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True).stdout.strip()
    assert loaded == "[]", f"import {module} loaded {loaded}"
