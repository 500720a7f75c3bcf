"""The one queue in front of the handlers, bounded by how long a request waits in it.

Past saturation a server that takes every request only grows a queue: each answer comes later
than the last, and the time goes into waiting, not work. Measured on 2 busy cores (issue 16;
``benchmarks/load_where.py`` times each request inside the server): at twice the sustained
rate the old limit of 64 requests in flight never refused one, because the queue was in
front of it. Recommend scored on the event loop, so one request was in flight at a time and
the rest waited unseen in the socket (p99 9.6 s, the server's own time per request 51 ms);
graph reads ran 64 threads taking turns on one GIL, the event loop's turn among them
(p99 3.4 s). So every handler's work runs off the loop, and:

* at most ``slots`` requests are worked on at once (``Settings.max_in_flight``, 8: one
  process runs Python on one core; 4 shed more for the same p99, 16 doubled the p99);
* one that finds every slot taken waits in first-come order, for at most ``max_wait``
  seconds (``Settings.max_queue_seconds``, 0.25: the standing mark, half of it, sits above
  the 100 ms p99 a server keeps at its sustained rate, so a server that copes should shed
  nothing; on a machine busy with other jobs, 0.1 shed 43% of graph reads at a rate the old
  server had answered with p99 130 ms, 0.25 shed 14%); still waiting then, it is refused;
* a newcomer is refused at once when the queue stands (its oldest request has waited half
  the bound: it is not draining, and the newcomer would most likely wait out the bound too,
  so both sides are better served by a fast 503) -- CoDel's idea, judged by time waited,
  not by queue length, so it needs no tuning to how fast a request is served.

The queue cannot grow past what arrives in half the bound. ``max_wait`` 0: no queue at all,
a request past the slots is refused at once.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(eq=False)  # compared by identity: two may join at the same instant
class _Waiter:
    since: float  # loop time it joined the queue
    granted: asyncio.Future[bool]  # True: handed a slot; False: waited out the bound


class Admission:
    """Slots and their bounded queue; ``enter`` and ``leave`` run on the event loop."""

    def __init__(self, slots: int, max_wait: float, clock: Callable[[], float] | None = None
                 ) -> None:
        """``clock``: seconds, for how long requests have waited (default: the loop's)."""
        self.slots = slots
        self.max_wait = max_wait
        self.clock = clock
        self.busy = 0
        self.queue: deque[_Waiter] = deque()

    def standing(self, now: float) -> bool:
        """Whether the oldest waiter has already waited half the bound."""
        return bool(self.queue) and now - self.queue[0].since >= self.max_wait / 2

    async def enter(self) -> bool:
        """Take a slot, waiting for one if the queue allows; False: refused (shed)."""
        if self.busy < self.slots and not self.queue:
            self.busy += 1
            return True
        loop = asyncio.get_running_loop()
        now = (self.clock or loop.time)()
        if self.max_wait <= 0 or self.standing(now):
            return False
        waiter = _Waiter(now, loop.create_future())
        self.queue.append(waiter)
        timer = loop.call_later(self.max_wait, self._expire, waiter)
        try:
            return await waiter.granted
        except asyncio.CancelledError:  # the server is stopping, or the task was cancelled
            if waiter.granted.done() and not waiter.granted.cancelled() and waiter.granted.result():
                self.leave()  # handed a slot it will not use: pass it on
            else:
                self._drop(waiter)
            raise
        finally:
            timer.cancel()

    def leave(self) -> None:
        """Give a slot back: to the oldest waiter if there is one."""
        while self.queue:
            waiter = self.queue.popleft()
            if not waiter.granted.done():
                waiter.granted.set_result(True)  # the slot passes on; busy is unchanged
                return
        self.busy -= 1

    def _expire(self, waiter: _Waiter) -> None:
        if not waiter.granted.done():
            self._drop(waiter)
            waiter.granted.set_result(False)

    def _drop(self, waiter: _Waiter) -> None:
        if waiter in self.queue:
            self.queue.remove(waiter)
