"""Coalescer: calls made together by concurrent tasks go to flush as one list, each gets its own result."""

from __future__ import annotations

import asyncio

import pytest

from common.coalesce import Coalescer

pytestmark = pytest.mark.unit


class Recorder:
    """A flush that records its batches and answers each item with its double, or a ValueError for 13."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []

    async def __call__(self, items: list[int]) -> list[int | BaseException]:
        self.batches.append(items)
        await asyncio.sleep(0)
        return [ValueError(f"no {i}") if i == 13 else 2 * i for i in items]


async def test_a_burst_goes_as_one_batch_when_its_last_call_arrives():
    """Tasks leaving a lock one after another each say they are on their way; the last one's submit
    sends the batch. Each submitter gets its own answer, and only the refused one raises."""
    flush, lock = Recorder(), asyncio.Lock()
    on_the_way = 4
    c = Coalescer(flush, max_items=10, coming=lambda: on_the_way)

    async def one(i: int) -> int:
        nonlocal on_the_way
        async with lock:
            await asyncio.sleep(0)
        on_the_way -= 1
        return await c.submit(i)

    results = await asyncio.gather(*(one(i) for i in (1, 2, 13, 4)), return_exceptions=True)
    assert flush.batches == [[1, 2, 13, 4]]
    assert results[:2] == [2, 4] and results[3] == 8
    assert isinstance(results[2], ValueError) and str(results[2]) == "no 13"


async def test_calls_whose_companions_are_held_up_go_after_quiet_turns():
    """One more call is said to be coming but never does (an entry waiting out a recovery, say): the
    others are not held for it; they go together once QUIET_TURNS turns pass with nothing new."""
    flush, lock = Recorder(), asyncio.Lock()
    c = Coalescer(flush, max_items=10, coming=lambda: 1)

    async def one(i: int) -> int:
        async with lock:
            await asyncio.sleep(0)
        return await c.submit(i)

    assert await asyncio.gather(*(one(i) for i in (1, 2, 3))) == [2, 4, 6]
    assert flush.batches == [[1, 2, 3]]


async def test_a_lone_call_is_sent_at_once():
    flush = Recorder()
    c = Coalescer(flush, max_items=10)
    turns = 0

    async def count_turns() -> None:
        nonlocal turns
        while True:
            turns += 1
            await asyncio.sleep(0)

    counter = asyncio.create_task(count_turns())
    await asyncio.sleep(0)
    try:
        before = turns
        assert await c.submit(5) == 10
    finally:
        counter.cancel()
    assert flush.batches == [[5]] and turns - before <= 1, turns - before  # the recorder's own turn only
    assert await c.submit(6) == 12 and flush.batches == [[5], [6]]


async def test_max_items_splits_a_burst():
    flush = Recorder()
    c = Coalescer(flush, max_items=3, coming=lambda: 1)
    assert await asyncio.gather(*(c.submit(i) for i in range(7))) == [0, 2, 4, 6, 8, 10, 12]
    assert flush.batches == [[0, 1, 2], [3, 4, 5], [6]]


async def test_a_failed_flush_fails_every_submitter():
    async def broken(items: list[int]) -> list[int]:
        raise ConnectionError("down")

    c = Coalescer(broken, max_items=10, coming=lambda: 1)
    results = await asyncio.gather(c.submit(1), c.submit(2), return_exceptions=True)
    assert [type(r) for r in results] == [ConnectionError, ConnectionError]


async def test_a_cancelled_submitter_leaves_the_others_their_answers():
    gate = asyncio.Event()

    async def slow(items: list[int]) -> list[int]:
        await gate.wait()
        return items

    c = Coalescer(slow, max_items=10, coming=lambda: 1)
    a, b = asyncio.create_task(c.submit(1)), asyncio.create_task(c.submit(2))
    await asyncio.sleep(0.01)
    a.cancel()
    gate.set()
    assert await b == 2
    with pytest.raises(asyncio.CancelledError):
        await a
