"""One main-job run shared by every end-to-end test: ``reelgraph demo`` (the small default
configuration) twice in a fresh home, once per test session."""

from __future__ import annotations

import pytest
from demo_runs import DemoRuns, run_demo


@pytest.fixture(scope="session")
def demo_runs(tmp_path_factory: pytest.TempPathFactory) -> DemoRuns:
    home = tmp_path_factory.mktemp("demo-home")
    first = run_demo(home)
    return DemoRuns(home, first, run_demo(home))
