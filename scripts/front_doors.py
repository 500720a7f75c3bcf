"""Rewrite imports of another package's internal modules to go through its front door.

    .venv/bin/python scripts/front_doors.py      # then: .venv/bin/ruff check --fix src

``from reelgraph.core.errors import InvalidInput`` in ``graph`` becomes
``from reelgraph.core import InvalidInput``. A name is taken from the nearest front door that
exports it: a sub-package that declares ``__all__`` (``reelgraph.flows.registry``), else the
package. Names no door exports are listed, for a person to export or leave alone;
``tests/test_public_api.py`` fails until none is left.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src" / "reelgraph"
# Names a front door exports under another name: (module, name) -> exported name.
RENAMED = {("reelgraph.media.pipeline", "PRODUCER"): "SHOTS_PRODUCER",
           ("reelgraph.recsys.flow", "training"): "training_flow"}


def exported(module: str) -> set[str]:
    """What a front door exports; nothing for a plain module or an undeclared sub-package."""
    found = importlib.import_module(module)
    return set(getattr(found, "__all__", ())) if hasattr(found, "__path__") else set()


def door_of(module: str, name: str) -> str | None:
    """The nearest front door above ``module`` (or ``module`` itself) exporting ``name``."""
    parts = module.split(".")
    for end in range(len(parts), 1, -1):
        if name in exported(".".join(parts[:end])):
            return ".".join(parts[:end])
    return None


def rewrite(path: Path) -> list[str]:
    """Rewrite ``path`` in place; returns the imports no front door could take."""
    own = path.relative_to(SRC).parts[0]
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines(keepends=True)
    edits: list[tuple[int, int, str]] = []
    left: list[str] = []
    for node in ast.walk(ast.parse(text)):
        if not (isinstance(node, ast.ImportFrom) and node.level == 0 and node.module
                and node.module.startswith("reelgraph.")
                and node.module.split(".")[1] != own):
            continue
        doors: dict[str, list[str]] = {}
        for alias in node.names:
            name = RENAMED.get((node.module, alias.name), alias.name)
            door = door_of(node.module, name)
            if door is None:
                left.append(f"{path.relative_to(SRC.parent)}:{node.lineno}: "
                            f"{node.module}.{alias.name}")
                break
            asname = alias.asname or (alias.name if name != alias.name else None)
            doors.setdefault(door, []).append(f"{name} as {asname}" if asname else name)
        else:
            if list(doors) != [node.module]:
                indent = lines[node.lineno - 1][:node.col_offset]
                edits.append((node.lineno - 1, node.end_lineno or node.lineno, "".join(
                    f"{indent}from {door} import {', '.join(names)}\n"
                    for door, names in doors.items())))
    for start, end, new in sorted(edits, reverse=True):
        lines[start:end] = [new]
    if edits:
        path.write_text("".join(lines), encoding="utf-8")
    return left


def main() -> None:
    modules = [p for p in sorted(SRC.rglob("*.py")) if len(p.relative_to(SRC).parts) > 1]
    left = [line for path in modules for line in rewrite(path)]
    print("\n".join(["no front door exports these (export them, then run again):", *left])
          if left else "every cross-package import goes through a front door")


if __name__ == "__main__":
    main()
