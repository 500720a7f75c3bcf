"""The package's front door: exports what ``__all__`` says, and loads no PyTorch."""

from __future__ import annotations

import subprocess
import sys

import reelgraph.recsys as recsys


def test_all_names_resolve() -> None:
    exported = recsys.__all__
    assert len(exported) == len(set(exported))
    public = {n for n in vars(recsys) if not n.startswith("_")}
    submodules = {n for n in public if type(getattr(recsys, n)).__name__ == "module"}
    assert public - submodules == set(exported)


def test_importing_the_package_does_not_load_torch() -> None:
    code = "import sys, reelgraph.recsys\nprint('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "False"
