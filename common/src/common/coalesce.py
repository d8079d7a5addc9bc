"""Calls that concurrent tasks make together, sent as one: a burst of orders costs one round trip.

The caller says how many more submits are on their way (`coming`): the last of a burst, or a lone
call, flushes at once, in its own task, without a turn of the event loop. Submits whose companions
are held up elsewhere (an entry waiting out a recovery) are not held for them: the batch goes once
QUIET_TURNS loop turns pass with nothing new, never on a timer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")
QUIET_TURNS = 2  # a lock handed from task to task takes two turns per task when each holds it over an await


class Coalescer(Generic[T, R]):
    """`submit(item)` from many tasks; `flush(items)` gets them as one list (at most `max_items`) when
    `coming()` says no other submit is on its way, or once QUIET_TURNS loop turns have passed with none
    added, and returns one result per item in order: a value, or an exception, which that item's
    submitter raises. An exception from `flush` itself goes to them all."""

    def __init__(self, flush: Callable[[list[T]], Awaitable[Sequence[R | BaseException]]], *,
                 max_items: int, coming: Callable[[], int] = lambda: 0) -> None:
        self._flush, self._max, self._coming = flush, max_items, coming
        self._waiting: list[tuple[T, asyncio.Future[R]]] = []
        self._quiet = 0  # turns passed with nothing added
        self._tasks: set[asyncio.Task] = set()

    async def submit(self, item: T) -> R:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[R] = loop.create_future()
        self._waiting.append((item, future))
        if len(self._waiting) >= self._max or not self._coming():
            batch, self._waiting = self._waiting, []
            await self._run(batch)  # here, not in a task: a lone call costs no turn of the loop
        elif len(self._waiting) == 1:
            self._quiet = 0
            loop.call_soon(self._look, len(self._waiting))
        return await future

    def _look(self, seen: int) -> None:
        """Send what waits once QUIET_TURNS turns added nothing to the `seen` items; else look again."""
        if not self._waiting:
            return
        self._quiet = self._quiet + 1 if len(self._waiting) == seen else 0
        if self._quiet >= QUIET_TURNS:
            self._send()
        else:
            asyncio.get_running_loop().call_soon(self._look, len(self._waiting))

    def _send(self) -> None:
        batch, self._waiting = self._waiting, []
        task = asyncio.create_task(self._run(batch))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, batch: list[tuple[T, asyncio.Future[R]]]) -> None:
        try:
            results = await self._flush([item for item, _ in batch])
        except asyncio.CancelledError:
            for _, future in batch:
                future.cancel()
            raise
        except Exception as e:  # noqa: BLE001 - handed to every submitter, which raises it
            results = [e] * len(batch)
        for (_, future), result in zip(batch, results, strict=True):
            if future.done():  # its submitter was cancelled
                continue
            if isinstance(result, BaseException):
                future.set_exception(result)
            else:
                future.set_result(result)
