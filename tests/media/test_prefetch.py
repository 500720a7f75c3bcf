"""prefetched: same items in the same order, errors passed on, early stops clean up."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from reelgraph.media.prefetch import prefetched


def test_keeps_order_and_items() -> None:
    assert list(prefetched(iter(range(1000)), depth=3)) == list(range(1000))
    assert list(prefetched(iter([]))) == []


def test_runs_on_another_thread() -> None:
    def where() -> Iterator[str]:
        yield threading.current_thread().name

    assert list(prefetched(where())) == ["reelgraph-prefetch"]


def test_an_error_reaches_the_consumer() -> None:
    def failing() -> Iterator[int]:
        yield 1
        raise ValueError("broken at 2")

    items = prefetched(failing())
    assert next(items) == 1
    with pytest.raises(ValueError, match="broken at 2"):
        next(items)


def test_stopping_early_closes_the_source() -> None:
    closed = threading.Event()

    def endless() -> Iterator[int]:
        try:
            n = 0
            while True:
                yield n
                n += 1
        finally:
            closed.set()

    items = prefetched(endless(), depth=2)
    assert [next(items) for _ in range(5)] == [0, 1, 2, 3, 4]
    items.close()  # type: ignore[attr-defined]
    assert closed.is_set()
