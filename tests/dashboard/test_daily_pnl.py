"""dashboard.daily_pnl: P&L today (this week) counts each symbol from its last value before midnight
(Monday 00:00 UTC), net of fees, read from exec.events in a real Redis."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import redis
from redis import asyncio as aioredis
from common.bybit.enums import Side
from common.schemas import FillEvent, PositionEvent, encode

from common import constants as c
from dashboard import daily_pnl

pytestmark = pytest.mark.service


def _publish(r: redis.Redis, msg, *, ms: int) -> None:
    r.xadd(c.EXEC_EVENTS, {c.PAYLOAD_FIELD: encode(msg)}, id=f"{ms}-0")


async def test_pnl_today_counts_from_the_last_value_before_midnight(redis_url):
    now = datetime(2026, 11, 26, 12, tzinfo=UTC)
    midnight_ms = int(datetime(2026, 11, 26, tzinfo=UTC).timestamp() * 1000)
    r = redis.Redis.from_url(redis_url)
    ar = aioredis.Redis.from_url(redis_url)
    try:
        assert "no_data" in await daily_pnl.today(ar, now=now)
        pos = dict(side=Side.NONE, size="0", ts_ns=0)
        _publish(r, PositionEvent(symbol="BTCUSDT", realised_pnl="10", **pos), ms=midnight_ms - 5000)
        _publish(r, PositionEvent(symbol="BTCUSDT", realised_pnl="12.5", **pos), ms=midnight_ms - 1000)
        fill = dict(order_link_id="l", order_id="o", symbol="BTCUSDT", side=Side.BUY, price="1", qty="1",
                    is_maker=True, exchange_ts_ns=0, ts_ns=0)
        _publish(r, FillEvent(exec_id="a", fee="0.25", **fill), ms=midnight_ms + 1000)
        _publish(r, PositionEvent(symbol="BTCUSDT", realised_pnl="15", **pos), ms=midnight_ms + 2000)
        _publish(r, PositionEvent(symbol="ETHUSDT", realised_pnl="-1.5", **pos), ms=midnight_ms + 3000)
        _publish(r, FillEvent(exec_id="b", fee="0.5", **fill), ms=midnight_ms + 4000)
        got = await daily_pnl.today(ar, now=now)
        assert got["realised_pnl"] == "1.0" and got["fees"] == "0.75" and got["fills"] == 2
        assert got["symbols"]["BTCUSDT"] == {"realised_pnl": "2.5", "baseline": "before 00:00 UTC"}
        assert got["symbols"]["ETHUSDT"] == {"realised_pnl": "-1.5", "baseline": "none: from 0"}
        assert got["since_ns"] == midnight_ms * 1_000_000
    finally:
        r.close()
        await ar.aclose()


async def test_pnl_this_week_counts_from_the_last_value_before_monday(redis_url):
    now = datetime(2026, 11, 26, 12, tzinfo=UTC)  # a Thursday
    monday_ms = int(datetime(2026, 11, 23, tzinfo=UTC).timestamp() * 1000)
    assert daily_pnl.week_start_ms(now) == monday_ms
    assert daily_pnl.week_start_ms(datetime(2026, 11, 23, tzinfo=UTC)) == monday_ms  # Monday 00:00 itself
    r = redis.Redis.from_url(redis_url)
    ar = aioredis.Redis.from_url(redis_url)
    try:
        empty = await daily_pnl.week(ar, now=now)
        assert empty["no_data"] == "no fill or position event since Monday 00:00 UTC"
        pos = dict(symbol="BTCUSDT", side=Side.NONE, size="0", ts_ns=0)
        thursday_ms = monday_ms + 3 * 86_400_000
        for value, ms in (("40", monday_ms - 1000), ("55", monday_ms + 1000), ("61.5", thursday_ms + 1000)):
            _publish(r, PositionEvent(realised_pnl=value, **pos), ms=ms)
        week, today = await daily_pnl.week(ar, now=now), await daily_pnl.today(ar, now=now)
        assert week["realised_pnl"] == "21.5" and week["since_ns"] == monday_ms * 1_000_000
        assert week["symbols"]["BTCUSDT"]["baseline"] == "before Monday 00:00 UTC"  # 40, the last before it
        assert today["realised_pnl"] == "6.5"  # from Wednesday's last value, 55
        shown = daily_pnl.figures(week, [{"unrealised_pnl": "-1.25"}])
        assert (shown["realised"], shown["unrealised"], shown["total"]) == ("+21.50", "-1.25", "+20.25")
    finally:
        r.close()
        await ar.aclose()
