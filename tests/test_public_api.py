"""Each package's front door exports exactly what it says, and nothing is a star import."""

from __future__ import annotations

import importlib

import pytest

PACKAGES = ["reelgraph.core", "reelgraph.graph", "reelgraph.media", "reelgraph.matchcut"]


@pytest.mark.parametrize("name", PACKAGES)
def test_all_names_resolve(name: str) -> None:
    package = importlib.import_module(name)
    exported = package.__all__
    assert len(exported) == len(set(exported)), "duplicate names in __all__"
    for attribute in exported:
        assert hasattr(package, attribute), f"{name}.__all__ names missing {attribute}"
    public = {n for n in vars(package) if not n.startswith("_")}
    submodules = {n for n in public if type(getattr(package, n)).__name__ == "module"}
    assert public - submodules == set(exported), "exported names and __all__ disagree"
