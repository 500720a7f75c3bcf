"""The shared main-job run of the end-to-end tests (``tests/e2e/conftest.py``): ``reelgraph
demo`` as a user runs it, output piped, in its own process group."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

from processes import run_group

# Each of the two runs. The first takes minutes on 2 quiet cores; a busy machine is slow,
# not broken, so the limit is generous (a timeout still kills the demo and its workers).
DEMO_TIMEOUT_S = 3_000


@dataclass(frozen=True)
class DemoRuns:
    home: Path  # REELGRAPH_HOME of both runs
    first: str  # stdout of the first run (a clean home)
    second: str  # stdout of the second (everything memoized)


def run_demo(home: Path, *args: str) -> str:
    """``reelgraph demo ARGS`` in ``home``; its stdout (it must exit 0)."""
    env = {**os.environ, "REELGRAPH_HOME": str(home), "COLUMNS": "200"}
    env.pop("REELGRAPH_DATABASE_URL", None)
    script = Path(sys.executable).with_name("reelgraph")
    done = run_group([script, "demo", *args], env, DEMO_TIMEOUT_S)
    assert done.returncode == 0, done.stderr[-4000:]
    return done.stdout
