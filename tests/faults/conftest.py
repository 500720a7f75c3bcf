"""The fault suite: processes killed with SIGKILL at named points (``core.faults``), then
the survivors check that nothing partial is visible, nothing is lost, and a retry or resume
finishes the work exactly once. Every process a test starts is waited for (or killed and
waited for) before the test ends."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fault_harness import Processes
from redis_fixture import redis_url

_HERE = Path(__file__).resolve().parent
__all__ = ["redis_url"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if Path(str(item.fspath)).resolve().parent == _HERE:
            item.add_marker(pytest.mark.faults)


@pytest.fixture
def processes() -> Iterator[Processes]:
    started = Processes()
    try:
        yield started
    finally:
        started.stop_all()
