"""One main-job run shared by every end-to-end test: ``reelgraph demo`` (the small default
configuration) twice in a fresh home, as a user runs it, output piped.

The run is slow on a busy machine, not broken: its limit is generous and its own, and a
timeout kills the demo's whole process group (its flow workers too).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from processes import run_group

DEMO_TIMEOUT_S = 3_000  # each of the two runs; the first takes minutes on 2 quiet cores


@dataclass(frozen=True)
class DemoRuns:
    home: Path  # REELGRAPH_HOME of both runs
    first: str  # stdout of the first run (a clean home)
    second: str  # stdout of the second (everything memoized)


def run_demo(home: Path, *args: str) -> tuple[str, str]:
    env = {**os.environ, "REELGRAPH_HOME": str(home), "COLUMNS": "200"}
    env.pop("REELGRAPH_DATABASE_URL", None)
    script = Path(sys.executable).with_name("reelgraph")
    done = run_group([script, "demo", *args], env, DEMO_TIMEOUT_S)
    assert done.returncode == 0, done.stderr[-4000:]
    return done.stdout, done.stderr


@pytest.fixture(scope="session")
def demo_runs(tmp_path_factory: pytest.TempPathFactory) -> DemoRuns:
    home = tmp_path_factory.mktemp("demo-home")
    first, _ = run_demo(home)
    second, _ = run_demo(home)
    return DemoRuns(home, first, second)
