"""The client limiter waits exactly until the reset Bybit announced, and not before it runs out."""

from __future__ import annotations

from common.bybit.backoff import Backoff
from common.bybit.ratelimit import RateLimiter


async def test_waits_until_reset_when_exhausted():
    now, slept = [1_000], []

    async def sleep(s):
        slept.append(s)
        now[0] += int(s * 1000)

    lim = RateLimiter(clock_ms=lambda: now[0], sleep=sleep)
    lim.update("/v5/order/create", {"X-Bapi-Limit-Status": "1", "X-Bapi-Limit-Reset-Timestamp": "1800"})
    assert await lim.acquire("/v5/order/create") == 0.0  # one left
    assert await lim.acquire("/v5/order/create") == 0.8  # none left: wait for the reset
    assert slept == [0.8]
    assert await lim.acquire("/v5/order/realtime") == 0.0  # other endpoints are not affected


def test_backoff_is_capped_and_jittered():
    b = Backoff(base_s=1, cap_s=8)
    values = [b.compute(n) for n in range(1, 10)]
    assert all(0 < v <= 8 for v in values)
    assert 0.5 <= values[0] <= 1 and values[-1] >= 4
