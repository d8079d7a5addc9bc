"""While entries flow, the price and the equity the limits check an entry against are read again off the
order path (Limits.keep_warm), so the next entry finds them fresh instead of waiting for REST."""

from __future__ import annotations

import asyncio

import pytest
import redis.asyncio as aioredis

from common.bybit.http import BybitHttp
from common.bybit.rest import BybitRest
from common.config import Settings
from common.health import Progress
from common.schemas import OrderIntent, now_ns
from execution_service.equity import DailyLoss
from execution_service.limits import Limits
from execution_service.store import Store
from tests.support import KEY, SECRET, wait_until_async

pytestmark = pytest.mark.service


async def test_a_recent_entry_has_its_price_and_the_equity_read_again_without_another_entry(redis_url, sim):
    r = aioredis.from_url(redis_url)
    rest = BybitRest(BybitHttp(base_url=sim.rest, api_key=KEY, api_secret=SECRET))
    settings = Settings(_env_file=None)
    daily = DailyLoss(redis=r, limit_pct=settings.exec_daily_loss_limit_pct)

    async def refresh_wallet() -> None:
        for w in (await rest.wallet()).list:
            await daily.on_equity(float(w.totalEquity), ts_ms=now_ns() // 1_000_000)

    limits = Limits(settings=settings, store=Store(r), rest=rest, daily=daily, refresh_wallet=refresh_wallet)
    entry = OrderIntent(intent_id="s-BTCUSDT-warm", symbol="BTCUSDT", side="Buy", qty="0.001",
                        created_ts_ns=now_ns())
    assert await limits.admit(entry) is None  # reads the price and the equity itself: none yet
    price_at, equity_at = limits.prices["BTCUSDT"][1], daily.read_at
    warm = asyncio.create_task(limits.keep_warm(Progress("limits-warm")))
    try:
        await wait_until_async(lambda: limits.prices["BTCUSDT"][1] > price_at and daily.read_at > equity_at,
                               timeout=30, what="the price and the equity read again off the path")
        assert not warm.done()
    finally:
        warm.cancel()
        await rest.http.aclose()
        await r.aclose()
