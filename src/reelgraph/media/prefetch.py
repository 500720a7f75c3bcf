"""Run an iterator one step ahead on a worker thread, so decoding overlaps the consumer.

FFmpeg decodes and scales with Python's GIL released, so while the consumer (a shot
detector, a model) works on frame ``n`` the worker is already decoding frame ``n + 1``:
on two or more free cores, wall time approaches the larger of the two costs instead of
their sum. Order is kept; at most ``depth`` items wait in between; an exception in the
worker is raised in the consumer; closing the consumer early stops and closes the
iterator on the worker thread (where it runs), so files are never left open.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TypeVar, cast

T = TypeVar("T")
_DONE = object()


@dataclass(frozen=True)
class _Failed:
    error: BaseException


def prefetched(items: Iterator[T], depth: int = 8) -> Iterator[T]:
    """``items``, produced on a worker thread up to ``depth`` ahead of the consumer."""
    waiting: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def offer(item: object) -> bool:
        while not stop.is_set():
            try:
                waiting.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def work() -> None:
        try:
            for item in items:
                if not offer(item):
                    return
            offer(_DONE)
        except BaseException as exc:  # handed to the consumer, which raises it
            offer(_Failed(exc))
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    worker = threading.Thread(target=work, name="reelgraph-prefetch", daemon=True)
    worker.start()
    try:
        while True:
            item = waiting.get()
            if item is _DONE:
                return
            if isinstance(item, _Failed):
                raise item.error
            yield cast(T, item)
    finally:
        stop.set()
        worker.join()
