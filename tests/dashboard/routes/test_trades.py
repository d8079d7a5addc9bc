"""dashboard.routes.trades: round trips from execution's fills on the page, in the API and as CSV, filtered
by symbol, UTC day and outcome; a day that is not a date is refused."""

from __future__ import annotations

import csv
import io
import time
from datetime import UTC, datetime

import pytest
import redis
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
