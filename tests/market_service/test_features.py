"""Microstructure features on hand-computed cases; the windowed Flow equals the pure functions."""

from __future__ import annotations

import math
import random

import pytest

from common.bybit.schemas.orderbook import OrderbookData
from market_service import features as f
from market_service.book import Book

pytestmark = pytest.mark.unit


def test_spread_mid_and_bps():
    assert f.spread(100.0, 100.5) == 0.5
    assert f.mid(100.0, 100.5) == 100.25
    assert f.spread_bps(100.0, 100.5) == pytest.approx(0.5 / 100.25 * 1e4)  # 49.875... bps


def test_microprice_leans_to_the_thin_side():
    # bid 100 x 3, ask 101 x 1: (100*1 + 101*3) / 4 = 100.75, closer to the ask (buyers dominate)
    assert f.microprice(bid=100.0, bid_size=3.0, ask=101.0, ask_size=1.0) == 100.75
    assert f.microprice(bid=100.0, bid_size=0.0, ask=101.0, ask_size=0.0) == 100.5


def test_imbalance_over_top_levels():
    assert f.imbalance([3.0, 1.0], [1.0, 1.0]) == pytest.approx((4 - 2) / 6)
    assert f.imbalance([], []) == 0.0
    assert f.imbalance([1.0], []) == 1.0


def test_ofi_step_cases():
    prev = (100.0, 5.0, 101.0, 4.0)
    assert f.ofi_step(prev, (100.0, 7.0, 101.0, 4.0)) == 2.0  # bid size grew at the same price
    assert f.ofi_step(prev, (100.5, 1.0, 101.0, 4.0)) == 1.0  # a new better bid adds its size
    assert f.ofi_step(prev, (99.5, 3.0, 101.0, 4.0)) == -5.0  # the bid level left: its old size goes
    assert f.ofi_step(prev, (100.0, 5.0, 101.0, 1.0)) == 3.0  # ask size shrank: buy pressure
    assert f.ofi_step(prev, (100.0, 5.0, 100.5, 2.0)) == -2.0  # a new lower ask: sell pressure
    assert f.ofi_step(prev, (100.0, 5.0, 101.5, 9.0)) == 4.0  # the ask level was lifted


def test_book_accumulates_ofi_across_coalesced_updates():
    book = Book("X")
    book.apply(
        kind="snapshot", data=OrderbookData(s="X", b=[("100", "5")], a=[("101", "4")], u=1, seq=0), ts_ms=1
    )
    book.apply(kind="delta", data=OrderbookData(s="X", b=[("100", "7")], a=[], u=2, seq=0), ts_ms=2)
    book.apply(kind="delta", data=OrderbookData(s="X", b=[], a=[("101", "1")], u=3, seq=0), ts_ms=3)
    assert book.take_ofi() == 5.0 and book.take_ofi() == 0.0


def test_trade_flow_vwap_and_realized_vol():
    assert f.trade_flow([(1.0, True), (2.0, False), (0.5, True)]) == (1.5, 2.0)
    assert f.vwap([(100.0, 1.0), (102.0, 3.0)]) == 101.5
    assert f.vwap([]) == 0.0
    assert f.realized_vol([100.0, 110.0, 100.0]) == pytest.approx(math.sqrt(2) * math.log(1.1))
    assert f.realized_vol([100.0]) == 0.0


def test_flow_windows_equal_the_pure_functions():
    rng = random.Random(3)
    flow = f.Flow(flow_ms=1_000, vol_ms=500)
    trades, price = [], 100.0
    for ts in range(0, 5_000, 7):
        price = round(price + rng.choice((-0.5, 0.0, 0.5)), 1)
        size, buy = rng.randint(1, 9) / 10, rng.random() < 0.5
        trades.append((ts, price, size, buy))
        flow.add(ts_ms=ts, price=price, size=size, buy=buy)
    flow.evict(5_000)
    window = [t for t in trades if t[0] > 4_000]
    assert (flow.buy_volume, flow.sell_volume) == pytest.approx(f.trade_flow((s, b) for _, _, s, b in window))
    assert flow.vwap == pytest.approx(f.vwap((p, s) for _, p, s, _ in window))
    assert flow.cvd == pytest.approx(sum(s if b else -s for _, _, s, b in trades))
    # returns in the vol window, each from the previous trade's price (which may precede the window)
    first = next(i for i, t in enumerate(trades) if t[0] > 4_500)
    assert flow.realized_vol == pytest.approx(f.realized_vol([p for _, p, _, _ in trades[first - 1 :]]))
    flow.evict(10_000)
    assert (flow.buy_volume, flow.vwap, flow.realized_vol) == (0.0, 0.0, 0.0)
