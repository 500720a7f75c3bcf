"""Leases: a holder on another host is gone when its heartbeat lapses; on this host the
process table decides."""

from __future__ import annotations

import threading

from reelgraph.core.liveness import this_process
from reelgraph.flows.leases import LEASE_S, Heartbeat, lapsed


def test_another_hosts_holder_is_gone_when_its_heartbeat_lapses() -> None:
    now = 10_000_000_000
    fresh, stale = now - 1_000_000, now - int(LEASE_S * 1_000_000) - 1
    assert not lapsed("elsewhere:1:1", fresh, now)
    assert lapsed("elsewhere:1:1", stale, now)
    assert not lapsed(this_process(), stale, now)  # on this host, the process decides


def test_a_heartbeat_renews_until_its_block_ends_and_survives_a_failing_renewal() -> None:
    beats: list[int] = []
    twice = threading.Event()

    def renew() -> None:
        beats.append(1)
        if len(beats) == 2:
            twice.set()
        raise RuntimeError("the database is away")  # retried at the next beat

    with Heartbeat(renew, every_s=0.01):
        assert twice.wait(10)
    after = len(beats)
    assert twice.wait(0.05) and len(beats) == after  # no beat once the block has ended
