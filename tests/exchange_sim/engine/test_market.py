"""Public market state: book depth, mark price, recent trades, candles and the 24h ticker."""

from __future__ import annotations

import pytest

from common.bybit.errors import BybitError
from exchange_sim.engine import Exchange
from exchange_sim.engine.klines import MINUTE_MS
from tests.exchange_sim.engine.conftest import ASKS, BIDS, SYMBOL, D, book, trade

pytestmark = pytest.mark.unit

START = 1_699_999_980_000  # a minute boundary


@pytest.fixture
def mx() -> Exchange:
    exchange = Exchange(symbols=[SYMBOL], balance=D(1))
    exchange.apply(book(bids=BIDS, asks=ASKS, ts=START))
    return exchange


def test_book_delta_patches_levels_and_depth_limits_the_view(mx):
    mx.apply(book(bids=[("60000.0", "0"), ("59999.5", "0.700")], asks=[("60001.5", "0.010")], u=2,
                  kind="delta",
                  ts=START + 5))
    bids, asks, u, seq, ts = mx.book(SYMBOL, 2)
    assert bids == [(D("59999.5"), D("0.700")), (D("59999.0"), D("0.200"))]
    assert asks == [(D("60001.0"), D("0.100")), (D("60001.5"), D("0.010"))]
    assert (u, seq, ts) == (2, 20, START + 5)


def test_mark_is_the_mid_on_the_tick_grid_and_last_follows_trades(mx):
    t = mx.ticker(SYMBOL)
    assert (t["markPrice"], t["bid1Price"], t["ask1Size"]) == (D("60000.50"), D("60000.0"), D("0.100"))
    mx.apply(trade(side="Sell", price="60000.0", size="0.5", ts=START + 1))
    assert mx.ticker(SYMBOL)["lastPrice"] == D("60000.0")
    assert [t.trade_id for t in mx.recent_trades(SYMBOL, 5)] == ["t0"]


def test_candles_build_from_trades_fill_silent_minutes_and_aggregate_newest_first(mx):
    prints = [(0, "100.0", "1"), (20_000, "105.0", "2"), (59_999, "99.0", "1"), (60_000, "101.0", "1"),
              (3 * MINUTE_MS + 1, "110.0", "3")]
    for n, (offset, price, size) in enumerate(prints):
        mx.apply(trade(side="Buy", price=price, size=size, ts=START + offset, n=n))
    one = mx.klines(SYMBOL, "1", 10)
    assert [k[0] - START for k in one] == [3 * MINUTE_MS, 2 * MINUTE_MS, MINUTE_MS, 0]
    assert one[-1] == (START, D("100.0"), D("105.0"), D("99.0"), D("99.0"), D(4), D("409.0"))
    assert one[1][1:] == (D("101.0"),) * 4 + (D(0), D(0))  # a silent minute: flat at the last close
    assert mx.klines(SYMBOL, "1", 2, end_ms=START + MINUTE_MS) == one[2:]
    bucket = START - START % (5 * MINUTE_MS)
    five = mx.klines(SYMBOL, "5", 10)
    last_bucket = (START + 3 * MINUTE_MS) // (5 * MINUTE_MS) * 5 * MINUTE_MS
    assert [k[0] for k in five] == sorted({bucket, last_bucket}, reverse=True)
    assert sum(k[5] for k in five) == D(8)
    assert mx.klines(SYMBOL, "D", 1)[0][1:5] == (D("100.0"), D("110.0"), D("99.0"), D("110.0"))
    with pytest.raises(BybitError) as err:
        mx.klines(SYMBOL, "7", 1)
    assert err.value.code == 10001


def test_ticker_24h_figures_come_from_the_last_day_of_candles(mx):
    mx.apply(trade(side="Buy", price="100.0", size="1", ts=START))
    mx.apply(trade(side="Buy", price="120.0", size="2", ts=START + 23 * 3600 * 1000))
    mx.apply(trade(side="Sell", price="90.0", size="1", ts=START + 25 * 3600 * 1000))
    t = mx.ticker(SYMBOL)  # 24h before the last trade the price was still 100.0 (flat minutes since)
    assert (t["lastPrice"], t["prevPrice24h"], t["highPrice24h"], t["lowPrice24h"]) == (
        D("90.0"), D("100.0"), D("120.0"), D("90.0"))
    assert (t["volume24h"], t["turnover24h"]) == (D(3), D("330.0000"))  # the first trade is over 24h old
    assert t["price24hPcnt"] == D("-0.1")
    assert t["nextFundingTime"] % (8 * 3600 * 1000) == 0 and t["fundingRate"] == D("0.0001")


def test_events_for_unknown_symbols_are_rejected(mx):
    with pytest.raises(BybitError):
        mx.apply(trade(side="Buy", price="1.0", size="1", symbol="ETHUSDT"))


def test_without_a_two_sided_book_the_mark_follows_trades():
    exchange = Exchange(symbols=[SYMBOL], balance=D(1))
    for n, price in enumerate(["100.0", "101.0"]):
        exchange.apply(trade(side="Buy", price=price, size="1", ts=START + n, n=n))
        assert exchange.ticker(SYMBOL)["markPrice"] == D(price)


def test_ticker_window_stays_exact_as_trades_arrive(mx):
    """The cached 24h window must agree with a brute-force fold of the minute candles after every trade."""
    offsets = [0, 1_000, 30_000, 61_000, 62_000, 3_600_000, 3_600_500, 86_300_000, 86_390_000, 86_460_000,
               90_000_000, 90_000_001]
    for n, offset in enumerate(offsets):
        mx.apply(trade(side="Buy", price=f"{100 + n % 5}.0", size=f"{n + 1}", ts=START + offset, n=n))
        now = START + offset
        minute = now - now % MINUTE_MS
        bars = [k for k in reversed(mx.klines(SYMBOL, "1", 2000)) if k[0] > minute - 1440 * MINUTE_MS]
        t = mx.ticker(SYMBOL)
        assert t["prevPrice24h"] == bars[0][1]
        assert (t["highPrice24h"], t["lowPrice24h"]) == (max(b[2] for b in bars), min(b[3] for b in bars))
        assert t["volume24h"] == sum(b[5] for b in bars)
        assert t["prevPrice1h"] == next(b[1] for b in bars if b[0] > minute - 60 * MINUTE_MS)
