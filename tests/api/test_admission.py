"""The queue in front of the handlers (``api/admission.py``): a request past the slots waits
its turn and is served when a slot frees; one that waits out the bound is refused; while the
queue stands a newcomer is refused at once; with no queue, past the slots is refused at once.
The clock that says how long a request has waited is the test's, so nothing here depends on
how fast the machine is."""

from __future__ import annotations

import asyncio

from reelgraph.api.admission import Admission

LONG = 3600.0  # a bound no test waits out


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def until_queued(admission: Admission, n: int) -> None:
    while len(admission.queue) < n:
        await asyncio.sleep(0)


def test_a_queued_request_gets_the_next_free_slot_in_arrival_order() -> None:
    async def scenario() -> list[str]:
        admission = Admission(1, LONG, Clock())
        order: list[str] = []
        assert await admission.enter()

        async def wait(name: str) -> None:
            assert await admission.enter()
            order.append(name)

        first = asyncio.create_task(wait("first"))
        await until_queued(admission, 1)
        second = asyncio.create_task(wait("second"))
        await until_queued(admission, 2)
        admission.leave()
        await first
        admission.leave()
        await second
        admission.leave()
        assert admission.busy == 0 and not admission.queue
        return order

    assert asyncio.run(scenario()) == ["first", "second"]


def test_a_request_that_waits_out_the_bound_is_refused_and_leaves_the_queue() -> None:
    async def scenario() -> None:
        admission = Admission(1, 0.01)
        assert await admission.enter()
        assert not await admission.enter()  # nobody left: it waited out the bound
        assert not admission.queue and admission.busy == 1
        admission.leave()
        assert await admission.enter()  # the slot is free again

    asyncio.run(scenario())


def test_while_the_queue_stands_a_newcomer_is_refused_at_once() -> None:
    async def scenario() -> None:
        clock = Clock()
        admission = Admission(1, LONG, clock)
        assert await admission.enter()
        waiting = asyncio.create_task(admission.enter())
        await until_queued(admission, 1)
        clock.now = LONG / 2 - 1  # the oldest has waited less than half the bound
        newcomer = asyncio.create_task(admission.enter())
        await until_queued(admission, 2)
        clock.now = LONG / 2  # now it has: the queue stands
        assert not await admission.enter()  # refused without joining the queue
        assert len(admission.queue) == 2
        admission.leave()
        assert await waiting
        admission.leave()
        assert await newcomer
        admission.leave()
        assert admission.busy == 0

    asyncio.run(scenario())


def test_with_no_queue_past_the_slots_is_refused_at_once() -> None:
    async def scenario() -> None:
        admission = Admission(2, 0)
        assert await admission.enter() and await admission.enter()
        assert not await admission.enter()
        assert not admission.queue

    asyncio.run(scenario())


def test_a_cancelled_waiter_gives_up_its_place() -> None:
    async def scenario() -> None:
        admission = Admission(1, LONG, Clock())
        assert await admission.enter()
        waiting = asyncio.create_task(admission.enter())
        await until_queued(admission, 1)
        waiting.cancel()
        await asyncio.gather(waiting, return_exceptions=True)
        assert not admission.queue
        admission.leave()
        assert admission.busy == 0

    asyncio.run(scenario())
