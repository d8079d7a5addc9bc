"""The client limiter waits exactly until the reset Bybit announced, and not before it runs out;
the last requests of a window are kept for priority calls (reduce-only exits)."""

from __future__ import annotations

import pytest
from common.bybit.backoff import Backoff
from common.bybit.ratelimit import PRIORITY_RESERVE, RateLimiter

pytestmark = pytest.mark.unit


async def test_waits_until_reset_when_exhausted():
    now, slept = [1_000], []

    async def sleep(s):
        slept.append(s)
        now[0] += int(s * 1000)

    lim = RateLimiter(clock_ms=lambda: now[0], sleep=sleep)
    lim.update("/v5/order/create", {"X-Bapi-Limit-Status": "1", "X-Bapi-Limit-Reset-Timestamp": "1800"})
    assert await lim.acquire("/v5/order/create", priority=True) == 0.0  # one left
    assert await lim.acquire("/v5/order/create", priority=True) == 0.8  # none left: wait for the reset
    assert slept == [0.8]
    assert await lim.acquire("/v5/order/realtime") == 0.0  # other endpoints are not affected


async def test_a_timer_that_fires_early_is_waited_out_to_the_reset():
    """An event loop's timer may fire a little early (libuv dates it from the start of the loop's pass):
    woken before the reset, the limiter sleeps again instead of sending into a window that has not turned."""
    now, slept = [1_000], []

    async def early_sleep(s):
        slept.append(s)
        now[0] += max(1, int(s * 1000) - 3)  # 3 ms early, but time goes on

    lim = RateLimiter(clock_ms=lambda: now[0], sleep=early_sleep)
    lim.exhaust("/v5/order/cancel-all", 1_800)
    await lim.acquire("/v5/order/cancel-all")
    assert now[0] >= 1_800, (now, slept)


async def test_entries_leave_the_last_requests_of_a_window_to_exits():
    now, slept = [1_000], []

    async def sleep(s):
        slept.append(s)
        now[0] += int(s * 1000)

    lim = RateLimiter(clock_ms=lambda: now[0], sleep=sleep)
    lim.update("/v5/order/create", {"X-Bapi-Limit-Status": f"{PRIORITY_RESERVE + 1}",
                                    "X-Bapi-Limit-Reset-Timestamp": "1500"})
    assert await lim.acquire("/v5/order/create") == 0.0  # an entry takes the one above the reserve
    for _ in range(PRIORITY_RESERVE):  # exits may still go at once
        assert await lim.acquire("/v5/order/create", priority=True) == 0.0
    assert slept == []
    lim.update("/v5/order/create", {"X-Bapi-Limit-Status": f"{PRIORITY_RESERVE}",
                                    "X-Bapi-Limit-Reset-Timestamp": "1500"})
    assert await lim.acquire("/v5/order/create") == 0.5  # an entry waits for the reset instead


def test_backoff_is_capped_and_jittered():
    b = Backoff(base_s=1, cap_s=8)
    values = [b.compute(n) for n in range(1, 10)]
    assert all(0 < v <= 8 for v in values)
    assert 0.5 <= values[0] <= 1 and values[-1] >= 4


async def test_reduce_only_orders_are_sent_as_priority_calls():
    from common.bybit.rest import BybitRest
    from common.bybit.schemas.order import PlaceOrderParams

    calls = []

    class RecordingHttp:
        async def post(self, path, body, result, *, priority=False):
            calls.append((path, priority))

    rest = BybitRest(RecordingHttp())
    base = {"category": "linear", "symbol": "BTCUSDT", "side": "Sell", "orderType": "Market", "qty": "0.001"}
    await rest.place_order(PlaceOrderParams(**base))
    await rest.place_order(PlaceOrderParams(**base, reduceOnly=True))
    assert calls == [("/v5/order/create", False), ("/v5/order/create", True)]
