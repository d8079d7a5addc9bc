"""Client-side rate limiting that follows Bybit's X-Bapi-Limit* headers, per endpoint path.

Cancels have endpoints (and so windows) of their own; within the order-create window the last
PRIORITY_RESERVE requests are kept for priority calls (reduce-only exits), so new entries wait for
the reset before an exit would have to.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from common.bybit import constants as k

# Requests of a window that only priority calls may spend.
PRIORITY_RESERVE = 2


@dataclass
class _Window:
    remaining: int
    reset_ms: int


class RateLimiter:
    """Waits before a call whose endpoint has no requests left until Bybit's announced reset."""

    def __init__(self, *, clock_ms: Callable[[], int] = lambda: int(time.time() * 1000),
                 sleep: Callable[[float], object] = asyncio.sleep) -> None:
        """`clock_ms`: the server's clock, at the earliest it may read now (BybitHttp.server_floor_ms),
        so a window is waited out by the server's reckoning, not ours."""
        self._windows: dict[str, _Window] = {}
        self._clock_ms, self._sleep = clock_ms, sleep

    async def acquire(self, path: str, *, priority: bool = False, cost: int = 1) -> float:
        """Sleep while `path` has not `cost` requests left (for a plain call: above the reserve; a
        batch spends one per order); returns the seconds waited."""
        w = self._windows.get(path)
        if w is None or w.remaining - cost >= (0 if priority else PRIORITY_RESERVE):
            if w is not None:
                w.remaining -= cost  # count our own call until the reply corrects it
            return 0.0
        waited = 0.0
        while (wait_s := (w.reset_ms - self._clock_ms()) / 1000) > 0:  # again if a timer fired early
            await self._sleep(wait_s)
            waited += wait_s
        self._windows.pop(path, None)  # concurrent waiters all wake here; the first one removes it
        return waited

    def update(self, path: str, headers: Mapping[str, str]) -> None:
        """Record what the server said is left in the current window."""
        status, reset = headers.get(k.H_LIMIT_STATUS), headers.get(k.H_LIMIT_RESET)
        if status is not None and reset is not None:
            self._windows[path] = _Window(remaining=int(status), reset_ms=int(reset))

    def exhaust(self, path: str, reset_ms: int) -> None:
        """After a 10006: nothing left until `reset_ms`."""
        self._windows[path] = _Window(remaining=0, reset_ms=reset_ms)
