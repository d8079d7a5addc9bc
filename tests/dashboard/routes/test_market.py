"""dashboard.routes.market: the market summary on the page and the API without float noise, nanoseconds or
sequence numbers (prices on the tick the last trade shows, bps and ms with two decimals), raw beside it."""

from __future__ import annotations

import json

import pytest
import redis

from common import constants as c

pytestmark = pytest.mark.platform

# As the market service writes it (market_service.store.summary), float noise included.
BTC = {"symbol": "BTCUSDT", "last_price": "65000.10", "bid": 65000.00000000001,
       "ask": 65000.10000000000582077, "spread": 0.10000000000582077, "spread_bps": 0.015384615385,
       "latency_ms": 12.3456, "stale": "", "u": 123456789, "exchange_ts_ns": 1_764_979_200_123_456_789,
       "updated_ts_ns": 1_764_979_200_200_000_000}


def test_the_market_reads_as_numbers_for_people_with_the_record_one_click_away(dashboard, redis_url):
    r = redis.Redis.from_url(redis_url)
    try:
        r.hset(c.MARKET_SUMMARY_KEY, "BTCUSDT", json.dumps(BTC))
        r.hset(c.MARKET_SUMMARY_KEY, "ETHUSDT", json.dumps(BTC | {"symbol": "ETHUSDT", "last_price": "3000.5",
                                                                 "bid": None, "ask": None, "spread": None,
                                                                 "spread_bps": None, "stale": "resync: gap"}))
    finally:
        r.close()
    admin = dashboard.session()
    got = admin.get("/api/market").json()
    assert got["symbols"]["BTCUSDT"] == BTC  # the raw summary stays as the market service wrote it
    assert got["display"]["BTCUSDT"] == {
        "last_price": "65000.10", "bid": "65000.00", "ask": "65000.10", "spread": "0.10",
        "spread_bps": "0.02 bps", "latency": "12.35 ms", "stale": "no",
        "exchange_time": "2025-12-06 00:00:00", "updated": "2025-12-06 00:00:00"}
    assert (got["display"]["ETHUSDT"]["bid"], got["display"]["ETHUSDT"]["stale"]) == ("", "resync: gap")

    page = admin.get("/market").text
    table = page.split("<table")[1].split("</table>")[0]
    shown = table.replace(table[table.index("<details>"):table.rindex("</details>")], "")
    for noise in ("0000000", "123456789", "1764979200", "None"):
        assert noise not in shown, noise
    assert '<td data-label="last" class="num last_price">65000.10</td>' in page
    assert '<td data-label="spread" class="num spread_bps">0.02 bps</td>' in page
    assert page.count("<summary>JSON</summary>") == 2 and "123456789" in page  # in the JSON view
