"""Builders for engine tests: an exchange over a hand-made BTCUSDT book."""

from __future__ import annotations

from decimal import Decimal

import pytest

from exchange_sim.engine import BookUpdate, Exchange, TradeTick

D = Decimal
T0 = 1_700_000_000_000
SYMBOL = "BTCUSDT"


def book(*, bids, asks, u=1, kind="snapshot", ts=T0, symbol=SYMBOL) -> BookUpdate:
    """A book message from (price, size) string pairs."""
    return BookUpdate(symbol=symbol, kind=kind, bids=[(D(p), D(s)) for p, s in bids],
                      asks=[(D(p), D(s)) for p, s in asks], u=u, seq=u * 10, ts_ms=ts, cts_ms=ts)


def trade(*, side, price, size, ts=T0, symbol=SYMBOL, n=0) -> TradeTick:
    return TradeTick(symbol=symbol, trade_id=f"t{n}", side=side, price=D(price), size=D(size), ts_ms=ts,
                     tick_direction="ZeroPlusTick")


# bids 60000.0 x0.100, 59999.0 x0.200, 59998.0 x0.300; asks 60001.0 x0.100, 60002.0 x0.200, 60003.0 x0.300
BIDS = [("60000.0", "0.100"), ("59999.0", "0.200"), ("59998.0", "0.300")]
ASKS = [("60001.0", "0.100"), ("60002.0", "0.200"), ("60003.0", "0.300")]


@pytest.fixture
def ex() -> Exchange:
    """BTCUSDT at 60000.0/60001.0 (mark 60000.50, last 60001.0), Bybit's default fees, 10,000 USDT."""
    exchange = Exchange(symbols=[SYMBOL, "ETHUSDT"], balance=D(10_000))
    exchange.apply(book(bids=BIDS, asks=ASKS))
    exchange.apply(trade(side="Buy", price="60001.0", size="0.001"))
    exchange.drain_events()
    return exchange
