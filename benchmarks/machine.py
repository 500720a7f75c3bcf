"""What the benchmarks record about the machine they ran on (imported by the scripts here)."""

from __future__ import annotations

import contextlib
import json
import os
import platform
import sqlite3
import sys
from importlib import metadata
from pathlib import Path
from typing import Any


def machine() -> dict[str, Any]:
    memory_gb = None
    with contextlib.suppress(ValueError, OSError):
        memory_gb = round(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / 2**30, 1)
    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "memory_gb": memory_gb,
        # Other work on the machine skews every figure: keep the load next to them.
        "load_average_1m_at_end": round(os.getloadavg()[0], 2),
        "python": sys.version.split()[0],
        "sqlite": sqlite3.sqlite_version,
    }


def versions(*packages: str) -> dict[str, str]:
    """Python, SQLite and the installed version of each package (or "not installed")."""
    found = {"python": platform.python_version(), "sqlite": sqlite3.sqlite_version}
    for package in ("reelgraph", *packages):
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = "not installed"
    return found


def save(report: dict[str, Any], path: Path) -> None:
    """Write a benchmark's figures as JSON (the folder made if missing) and say where."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {path}")
