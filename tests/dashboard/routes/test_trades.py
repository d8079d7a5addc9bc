"""dashboard.routes.trades: round trips from execution's fills on the page, in the API and as CSV, filtered
by symbol, UTC day and outcome; a day that is not a date is refused."""

from __future__ import annotations

import asyncio
import csv
import io
import time
from datetime import UTC, datetime

import pytest
import redis
import redis.asyncio as aioredis
from common import equity_curve
from common.bybit.enums import Side
from common.schemas import FillEvent, encode

from common import constants as c

pytestmark = pytest.mark.platform


def _fills(redis_url: str, *trips: tuple[str, str, str, str, int]) -> None:
    """Per trip (symbol, entry side, entry price, exit price, minutes ago it closed): its two fills."""
    r = redis.Redis.from_url(redis_url)
    try:
        for n, (symbol, side, entry, exit_, ago_min) in enumerate(trips):
            closed_ms = int(time.time() * 1000) - ago_min * 60_000
            back = Side.SELL if side == Side.BUY else Side.BUY
            for i, (s, px, t, link) in enumerate([(side, entry, closed_ms - 30_000, f"s-{symbol}-e-{n}"),
                                                  (back, exit_, closed_ms, f"s-{symbol}-x-{n}")]):
                fill = FillEvent(exec_id=f"{n}-{i}", order_link_id=link, order_id=f"o{n}{i}", symbol=symbol,
                                 side=s, price=px, qty="1.0", fee="0.25", is_maker=True,
                                 exchange_ts_ns=t * 1_000_000, ts_ns=0)
                r.xadd(c.EXEC_EVENTS, {c.PAYLOAD_FIELD: encode(fill)})
    finally:
        r.close()


def test_round_trips_filtered_on_the_page_in_the_api_and_as_csv(dashboard, redis_url):
    admin = dashboard.session()
    assert admin.get("/api/trades").json()["trips"] == []
    assert "no round trip matches" in admin.get("/trades").text
    _fills(redis_url, ("BTCUSDT", Side.BUY, "100.0", "110.0", 5), ("ETHUSDT", Side.SELL, "50.00", "52.50", 3),
           ("BTCUSDT", Side.SELL, "120.0", "119.0", 1))

    every = admin.get("/api/trades").json()
    assert [(t["symbol"], t["net_pnl"], t["outcome"]) for t in every["trips"]] == [
        ("BTCUSDT", "0.5", "win"), ("ETHUSDT", "-3", "loss"), ("BTCUSDT", "9.5", "win")]
    assert every["totals"] == {"trips": "3", "wins": "2", "losses": "1", "win_rate": "66.67 %",
                               "net_pnl": "+7.00", "fees": "-1.50"}
    assert [t["signal"] for t in every["trips"]] == ["BTCUSDT-2", "ETHUSDT-1", "BTCUSDT-0"]
    assert every["trips"][0]["display"]["holding"] == "30 s"

    btc_wins = admin.get("/api/trades", params={"symbol": "btcusdt", "outcome": "win"}).json()
    assert [t["net_pnl"] for t in btc_wins["trips"]] == ["0.5", "9.5"] and btc_wins["symbol"] == "BTCUSDT"
    def day_of(t: dict) -> str:
        return datetime.fromtimestamp(t["closed_ns"] / 1e9, UTC).date().isoformat()

    for day in {day_of(t) for t in every["trips"]}:  # today (and yesterday, just after midnight)
        on_day = admin.get("/api/trades", params={"day": day}).json()["trips"]
        assert on_day == [t for t in every["trips"] if day_of(t) == day]
    assert admin.get("/api/trades", params={"day": "2020-01-01"}).json()["trips"] == []
    assert admin.get("/api/trades", params={"day": "06/12"}).status_code == 400

    page = admin.get("/trades", params={"outcome": "loss"}).text
    assert 'class="num pnl neg">-3.00<' in page and "+0.50" not in page and "1 won" not in page

    exported = admin.get("/api/trades.csv", params={"symbol": "ETHUSDT"})
    assert exported.headers["content-type"].startswith("text/csv")
    assert 'filename="trades-last-7-days.csv"' in exported.headers["content-disposition"]
    [row] = list(csv.DictReader(io.StringIO(exported.text)))
    columns = ("symbol", "side", "entry_price", "exit_price", "fees", "net_pnl")
    assert [row[k] for k in columns] == ["ETHUSDT", Side.SELL, "50", "52.5", "0.5", "-3"]


def test_the_equity_curve_per_period_from_executions_samples(dashboard, redis_url):
    admin = dashboard.session()
    week = admin.get("/api/equity").json()  # a week unless asked
    assert (week["period"], week["samples"], week["resolution_s"]) == ("week", [], 3600)
    assert week["no_data"].startswith("no equity sample in the last week")
    now_ms = int(time.time() * 1000)
    readings = [(now_ms - 20 * 86_400_000, 9_000.0), (now_ms - 3 * 86_400_000, 10_000.0),
                (now_ms - 2 * 3_600_000, 10_250.5), (now_ms, 10_125.25)]

    async def write() -> None:
        r = aioredis.from_url(redis_url)
        try:
            for ts, equity in readings:  # as execution records each wallet reading
                await equity_curve.record(r, equity=equity, ts_ms=ts)
        finally:
            await r.aclose()

    asyncio.run(write())
    week = admin.get("/api/equity", params={"period": "week"}).json()
    assert [s["equity"] for s in week["samples"]] == [10_000.0, 10_250.5, 10_125.25] and week["no_data"] is None
    assert week["samples"][0]["ts_ms"] == now_ms - 3 * 86_400_000 - (now_ms - 3 * 86_400_000) % 3_600_000
    assert {k: week["display"][k] for k in ("last", "change", "change_pct", "high", "low")} == {
        "last": "10,125.25 USDT", "change": "+125.25 USDT", "change_pct": "+1.25 %", "high": "10,250.50 USDT",
        "low": "10,000.00 USDT"}
    day = admin.get("/api/equity", params={"period": "day"}).json()
    assert (day["resolution_s"], [s["equity"] for s in day["samples"]]) == (300, [10_250.5, 10_125.25])
    month = admin.get("/api/equity", params={"period": "month"}).json()
    assert [s["equity"] for s in month["samples"]] == [9_000.0, 10_000.0, 10_250.5, 10_125.25]
    assert admin.get("/api/equity", params={"period": "decade"}).status_code == 422
    page = admin.get("/trades").text
    assert 'id="equity-period"' in page and '<option value="month">' in page
