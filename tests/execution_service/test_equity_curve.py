"""The equity curve as execution keeps it in a real Redis: each bucket's sample is its newest reading, a
late reading changes nothing, each resolution is cut to its bound, and a period reads the right one."""

from __future__ import annotations

import pytest
import redis.asyncio as aioredis

from common import equity_curve
from common.equity_curve import HOURLY, MINUTES_5
from execution_service.equity import DAY_MS, DailyLoss

pytestmark = pytest.mark.service

TODAY = 20_000 * DAY_MS  # 00:00 UTC of some day
MIN_MS = 60_000


@pytest.fixture
async def r(redis_url):
    client = aioredis.from_url(redis_url)
    yield client
    await client.aclose()


async def test_each_bucket_keeps_its_newest_reading_and_a_late_one_changes_nothing(r):
    daily = DailyLoss(redis=r, limit_pct=50.0)
    for minute, equity in ((1, 10_000.0), (4, 10_010.5), (7, 9_990.25), (61, 10_100.0)):
        await daily.on_equity(equity, ts_ms=TODAY + minute * MIN_MS)
    await daily.on_equity(1.0, ts_ms=TODAY + 2 * MIN_MS)  # late: older than the newest reading
    now = TODAY + 90 * MIN_MS
    res, day = await equity_curve.series(r, period="day", now_ms=now)
    assert res is MINUTES_5 and day == [(TODAY, 10_010.5), (TODAY + 5 * MIN_MS, 9_990.25),
                                         (TODAY + 60 * MIN_MS, 10_100.0)]
    res, week = await equity_curve.series(r, period="week", now_ms=now)
    assert res is HOURLY and week == [(TODAY, 9_990.25), (TODAY + 60 * MIN_MS, 10_100.0)]
    _, year = await equity_curve.series(r, period="year", now_ms=now)
    assert year == [(TODAY, 10_100.0)]
    _, later = await equity_curve.series(r, period="day", now_ms=now + DAY_MS)
    assert later == []  # nothing in the last 24 h then


async def test_every_resolution_is_cut_to_its_bound(r):
    for i in range(MINUTES_5.keep + 3):
        await equity_curve.record(r, equity=float(i), ts_ms=TODAY + i * MINUTES_5.bucket_ms)
    assert await r.zcard(MINUTES_5.key) == MINUTES_5.keep
    oldest = await r.zrange(MINUTES_5.key, 0, 0, withscores=True)
    assert oldest == [(f"{TODAY + 3 * MINUTES_5.bucket_ms}:3.0".encode(), TODAY + 3 * MINUTES_5.bucket_ms)]
    assert await r.zcard(HOURLY.key) == (MINUTES_5.keep + 3 + 11) // 12
