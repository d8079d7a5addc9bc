"""dashboard.routes.quality: execution quality over time. Execution's Quality writes 5-minute buckets into
the real Redis, the dashboard reads the last 24 h of them back per symbol, and its page draws the charts."""

from __future__ import annotations

import time

import pytest
import redis.asyncio as aioredis

from common import constants as c
from common.bybit.enums import Side
from common.quality import bucket_start
from common.schemas import OrderIntent
from execution_service.quality import Quality

from tests.browser import ARTIFACTS, chromium, needs_chromium
from tests.dashboard.conftest import watched_page

pytestmark = pytest.mark.service
B = c.EXEC_QUALITY_BUCKET_S


class Clock:
    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


async def _order(q: Quality, link: str, symbol: str, qty: float, reference: float) -> None:
    """An intent received, sent and acked, as the router reports it."""
    q.received(OrderIntent(intent_id=link, symbol=symbol, side=Side.BUY, qty=str(qty),
                           reference_price=str(reference), created_ts_ns=time.time_ns()))
    q.sent(link)
    await q.acked(link)


async def _write(redis_url: str, now: int) -> None:
    """BTCUSDT: a filled order two buckets ago, an order without fills one bucket ago, one filled 25 h
    ago (out of the charts' span); ETHUSDT: in the current bucket, a fill of an order no longer timed."""
    r = aioredis.from_url(redis_url)
    clock = Clock(now - 2 * B + 10)
    q = Quality(r, clock=clock)
    try:
        await _order(q, "b1", "BTCUSDT", 0.2, 100.0)
        await q.fill(link="b1", symbol="BTCUSDT", side=Side.BUY, price=101.0, qty=0.2, fee=0.01, maker=True)
        clock.t = now - B + 10
        await _order(q, "b2", "BTCUSDT", 0.3, 100.0)
        clock.t = now + 1
        await q.fill(link="gone", symbol="ETHUSDT", side=Side.SELL, price=50.0, qty=1.0, fee=0.05, maker=False)
        clock.t = now - 25 * 3600
        await _order(q, "b0", "BTCUSDT", 0.1, 100.0)
        await q.fill(link="b0", symbol="BTCUSDT", side=Side.BUY, price=99.0, qty=0.1, fee=0.002, maker=False)
        ttl = await r.ttl(c.exec_quality_bucket_key("BTCUSDT", now - B))
        assert 0 < ttl <= c.EXEC_QUALITY_BUCKET_TTL_S
        assert float(await r.hget(c.exec_quality_bucket_key("BTCUSDT", now - 2 * B), "fill_qty")) == 0.2
    finally:
        await r.aclose()


async def test_quality_buckets_round_trip_from_execution_to_the_dashboard(dashboard, redis_url):
    now = bucket_start(time.time())
    await _write(redis_url, now)
    client = dashboard.session()
    h = client.get("/api/quality/history").json()
    assert h["bucket_s"] == B and h["to"] >= now and h["from"] == h["to"] - 86_400 + B
    btc, eth = h["symbols"]["BTCUSDT"], h["symbols"]["ETHUSDT"]
    assert [b["t"] for b in btc] == [now - 2 * B, now - B]  # no current bucket, no old one
    filled, unfilled = btc
    assert filled["orders"] == 1 and filled["fills"] == 1 and filled["fees"] == pytest.approx(0.01)
    assert filled["fill_ratio"] == pytest.approx(1.0) and filled["maker_share"] == pytest.approx(1.0)
    assert filled["slippage_bps"] == pytest.approx(100.0)
    assert unfilled["orders"] == 1 and unfilled["fills"] == 0 and unfilled["fees"] == 0
    assert unfilled["fill_ratio"] == 0
    assert unfilled["maker_share"] is None and unfilled["slippage_bps"] is None
    [e] = eth
    assert e["t"] == now and e["fills"] == 1 and e["maker_share"] == 0 and e["fees"] == pytest.approx(0.05)
    assert e["fill_ratio"] is None and e["slippage_bps"] is None  # no order of its own, no reference

    lifetime = client.get("/api/quality").json()["symbols"]["BTCUSDT"]  # the old bucket counts here
    assert lifetime["orders"] == 3 and lifetime["fills"] == 2
    assert lifetime["slippage_bps"] == pytest.approx((100.0 * 0.2 - 100.0 * 0.1) / 0.3)

    page = client.get("/quality").text
    for chart in ("slippage-chart", "fill-ratio-chart", "maker-share-chart", "fees-chart"):
        assert f'id="{chart}"' in page
    assert '<script src="/static/quality.js" defer></script>' in page
    assert '<td class="slippage_bps">' in page


@needs_chromium
def test_the_quality_page_draws_its_four_charts(redis_server, open_dashboard):
    """From quality sums as execution keeps them: lifetime and the current bucket."""
    from playwright.sync_api import expect

    sums = {"orders": 1, "intent_qty": 0.1, "fills": 1, "fill_qty": 0.1, "maker_qty": 0.1, "fees": 0.001,
            "slippage_bps_qty": 0.2, "matched_qty": 0.1}
    r = redis_server.client()
    r.hset(c.exec_quality_key("BTCUSDT"), mapping=sums)
    r.hset(c.exec_quality_bucket_key("BTCUSDT", bucket_start(time.time())), mapping=sums)
    r.close()
    with chromium() as browser:
        errors: list[str] = []
        page = watched_page(browser, errors)
        page.goto(open_dashboard.base + "/quality")
        for chart in ("slippage-chart", "fill-ratio-chart", "maker-share-chart", "fees-chart"):
            expect(page.locator(f"#{chart} canvas")).to_be_visible()
        expect(page.locator("#fees-chart .u-legend")).to_contain_text("BTCUSDT")
        page.screenshot(path=str(ARTIFACTS / "quality.png"), full_page=True)
        assert errors == []
