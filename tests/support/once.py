"""Values a whole test run computes once, even when pytest-xdist runs it in several workers.

A session fixture is built once per worker process; for an expensive one (a trained model)
the first worker to need it builds it and leaves it on disk, beside the workers' temporary
folders, under a file lock, and the others load it (the recipe of the pytest-xdist docs).
Without xdist it is simply built.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Callable
from typing import TypeVar

import pytest
from filelock import FileLock

T = TypeVar("T")


def once_per_run(factory: pytest.TempPathFactory, name: str, build: Callable[[], T]) -> T:
    """``build()``, or the copy another worker of this run built under ``name`` (the value
    must pickle; every worker but the builder gets an unpickled copy)."""
    if "PYTEST_XDIST_WORKER" not in os.environ:
        return build()
    folder = factory.getbasetemp().parent  # shared by this run's workers, new every run
    stored = folder / f"{name}.pickle"
    with FileLock(f"{stored}.lock"):
        if stored.is_file():
            value: T = pickle.loads(stored.read_bytes())
            return value
        value = build()
        partial = stored.with_suffix(".partial")
        partial.write_bytes(pickle.dumps(value))
        partial.replace(stored)  # a worker killed mid-write leaves no half file
        return value
