"""Front doors are the only doors: every package's ``__all__`` is honest, and no module
imports a name from another package except through a front door: the package's ``__init__``,
or a sub-package's ``__init__`` that declares ``__all__`` (``reelgraph.flows.registry``)."""

from __future__ import annotations

import ast
import importlib
from collections.abc import Iterator
from pathlib import Path

import pytest

import reelgraph

SRC = Path(reelgraph.__file__).parent
PACKAGES = sorted(p.name for p in SRC.iterdir() if (p / "__init__.py").exists())
# Every front door: each package, and each sub-package whose __init__ declares __all__.
DOORS = [f"reelgraph.{name}" for name in PACKAGES] + sorted(
    ".".join(("reelgraph", *init.parent.relative_to(SRC).parts))
    for init in SRC.glob("*/*/**/__init__.py") if "__all__" in init.read_text(encoding="utf-8"))


def _package_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "reelgraph" else None


def door(module: str) -> set[str] | None:
    """The names a front door exports; None if the module is no front door."""
    found = importlib.import_module(module)
    if not hasattr(found, "__path__") or not hasattr(found, "__all__"):
        return None  # a plain module, or a sub-package that declares no door
    return set(found.__all__)


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
    found = []
    for path in sorted(SRC.rglob("*.py")):
        if len(path.relative_to(SRC).parts) < 2:
            continue  # reelgraph/__init__.py
        for line, module, name in cross_package_imports(path):
            if name not in (door(module) or ()):
                where = f"{path.relative_to(SRC.parent)}:{line}"
                found.append(f"{where}: {module}.{name or '*'}")
    return found


def test_no_package_imports_another_packages_internals() -> None:
    violations = _violations()
    assert not violations, (
        "import these through a front door: run `.venv/bin/python scripts/front_doors.py`, "
        "or add the name to the package's __init__ and __all__:\n" + "\n".join(violations))


@pytest.mark.parametrize("name", DOORS)
def test_front_door_exports_exactly_its_all(name: str) -> None:
    package = importlib.import_module(name)
    exported = package.__all__
    assert len(exported) == len(set(exported)), "duplicate names in __all__"
    for attribute in exported:
        assert hasattr(package, attribute), f"{name}.__all__ names missing {attribute}"
    public = {n for n in vars(package) if not n.startswith("_")}
    submodules = {n for n in public if type(getattr(package, n)).__name__ == "module"}
    # A submodule is public only when __all__ names it (``reelgraph.demo.catalog``).
    assert public - (submodules - set(exported)) == set(exported), (
        "exported names and __all__ disagree")
