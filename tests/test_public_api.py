"""Front doors are the only doors: every package's ``__all__`` is honest, and no module
imports a name from another package except through that package's ``__init__``."""

from __future__ import annotations

import ast
import importlib
from collections.abc import Iterator
from pathlib import Path

import pytest

import reelgraph

SRC = Path(reelgraph.__file__).parent
PACKAGES = sorted(p.name for p in SRC.iterdir() if (p / "__init__.py").exists())


def _package_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "reelgraph" else None


def _exported(package: str) -> set[str]:
    return set(importlib.import_module(f"reelgraph.{package}").__all__)


def cross_package_imports(path: Path) -> Iterator[tuple[int, str, str]]:
    """``(line, module, name)`` of each name a module of one package imports from another."""
    own = path.relative_to(SRC).parts[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            package = _package_of(node.module)
            if package and package != own:
                for alias in node.names:
                    yield node.lineno, node.module, alias.name
        elif isinstance(node, ast.Import):
            for alias in node.names:
                package = _package_of(alias.name)
                if package and package != own:
                    yield node.lineno, alias.name, ""


def _violations() -> list[str]:
    doors = {p: _exported(p) for p in PACKAGES}
    found = []
    for path in sorted(SRC.rglob("*.py")):
        if len(path.relative_to(SRC).parts) < 2:
            continue  # reelgraph/__init__.py
        for line, module, name in cross_package_imports(path):
            package = _package_of(module)
            assert package is not None
            through_door = module == f"reelgraph.{package}" and name in doors[package]
            if not through_door:
                where = f"{path.relative_to(SRC.parent)}:{line}"
                found.append(f"{where}: {module}.{name or '*'}")
    return found


def test_no_package_imports_another_packages_internals() -> None:
    violations = _violations()
    assert not violations, (
        "import these through the package's front door (add the name to its __init__ and "
        "__all__):\n" + "\n".join(violations))


@pytest.mark.parametrize("name", PACKAGES)
def test_front_door_exports_exactly_its_all(name: str) -> None:
    package = importlib.import_module(f"reelgraph.{name}")
    exported = package.__all__
    assert len(exported) == len(set(exported)), "duplicate names in __all__"
    for attribute in exported:
        assert hasattr(package, attribute), f"{name}.__all__ names missing {attribute}"
    public = {n for n in vars(package) if not n.startswith("_")}
    submodules = {n for n in public if type(getattr(package, n)).__name__ == "module"}
    assert public - submodules == set(exported), "exported names and __all__ disagree"
