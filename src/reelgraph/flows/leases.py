"""Heartbeats and leases: how a run or a delivery that nobody works on any more is found.

Each holder records its process (``core.liveness``: ``host:pid:start``) and a heartbeat it
renews every ``HEARTBEAT_S`` from a background thread. A holder on this host is gone when its
process is (known at once); one on another host when its heartbeat is older than ``LEASE_S``
(its process may be frozen, or its machine gone).
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable
from types import TracebackType

from reelgraph.core import is_dead, is_local

HEARTBEAT_S = 10.0
LEASE_S = 60.0

# Held while a heartbeat renews, and across every fork: a forked worker never starts with a
# renewal's half-held locks (database pool, connection) copied into it.
_RENEWING = threading.Lock()
os.register_at_fork(before=_RENEWING.acquire, after_in_parent=_RENEWING.release,
                    after_in_child=_RENEWING.release)


def lapsed(owner: str | None, heartbeat_at: int | None, now_us: int) -> bool:
    """Whether the holder recorded as ``owner`` with this last heartbeat is gone. On this
    host the process table decides (a live holder whose beats queue behind a long write is
    not gone); for another host's holder, the age of its heartbeat."""
    if is_local(owner):
        return is_dead(owner)
    return heartbeat_at is not None and now_us - heartbeat_at > LEASE_S * 1_000_000


class Heartbeat:
    """``with Heartbeat(renew):`` calls ``renew()`` every ``every_s`` until the block ends.
    A failing renewal (the database briefly away) is tried again at the next beat."""

    def __init__(self, renew: Callable[[], None], every_s: float = HEARTBEAT_S) -> None:
        self.renew, self.every_s = renew, every_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="reelgraph-heartbeat",
                                        daemon=True)

    def _beat(self) -> None:
        while not self._stop.wait(self.every_s):
            with _RENEWING, contextlib.suppress(Exception):  # the lease covers a missed beat
                self.renew()

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self._stop.set()
        self._thread.join()
