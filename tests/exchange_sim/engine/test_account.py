"""Fees, PnL, margin, leverage and liquidation on hand-computed cases."""

from __future__ import annotations

import pytest

from common.bybit.errors import BybitError
from exchange_sim.engine import Exchange
from tests.exchange_sim.engine.conftest import SYMBOL, T0, D, book, trade

pytestmark = pytest.mark.unit

TAKER = D("0.00055")


def market(ex, side, qty):
    return ex.place_order(symbol=SYMBOL, side=side, order_type="Market", qty=D(qty), now_ms=T0)


def limit(ex, side, qty, price):
    return ex.place_order(symbol=SYMBOL, side=side, order_type="Limit", qty=D(qty), price=D(price), now_ms=T0)


def test_round_trip_books_pnl_and_taker_fees(ex):
    market(ex, "Buy", "0.100")  # 0.100 @ 60001.0
    market(ex, "Sell", "0.100")  # 0.100 @ 60000.0
    fees = D("6000.1") * TAKER + D("6000.0") * TAKER
    w = ex.wallet()
    assert w.cum_realised_pnl == D("-0.1")
    assert w.fees_paid == fees
    assert w.wallet_balance == D(10_000) - D("0.1") - fees
    assert w.equity == w.wallet_balance and w.unrealised_pnl == 0
    assert w.cash == D(10_000) - D("0.1")
    position = ex.positions(symbol=SYMBOL)[0]
    assert (position.side, position.size, position.cum_realised_pnl) == ("", 0, D("-0.1") - fees)


def test_open_position_marks_to_mid_with_margin(ex):
    market(ex, "Buy", "0.100")
    p = ex.positions(symbol=SYMBOL)[0]
    assert (p.side, p.size, p.avg_price, p.mark_price) == ("Buy", D("0.100"), D("60001.0"), D("60000.50"))
    assert p.unrealised_pnl == D("-0.05")
    assert p.position_value == D("6000.1")
    assert p.position_im == D("600.01")
    assert p.position_mm == D("30.0005")
    w = ex.wallet()
    assert w.equity == w.wallet_balance - D("0.05")
    assert w.available_balance == w.equity - D("600.01")


def test_partial_close_realises_the_average_entry(ex):
    market(ex, "Buy", "0.150")  # 0.100 @ 60001 + 0.050 @ 60002: entry value 9000.2
    market(ex, "Sell", "0.050")  # @ 60000.0
    p = ex.positions(symbol=SYMBOL)[0]
    assert p.size == D("0.100")
    share = D("3000.066666666667")  # a third of the entry value, rounded to 1e-12
    assert ex.wallet().cum_realised_pnl == D("3000.0") - share
    assert p.position_value == D("9000.2") - share
    assert p.avg_price == D("60001.33333")


def test_crossing_through_zero_flips_the_position(ex):
    market(ex, "Buy", "0.100")  # @ 60001
    market(ex, "Sell", "0.300")  # 0.100 @ 60000 closes, 0.200 @ 59999 opens a short
    p = ex.positions(symbol=SYMBOL)[0]
    assert (p.side, p.size, p.avg_price, p.position_value) == ("Sell", D("0.200"), D("59999.0"), D("11999.8"))
    assert ex.wallet().cum_realised_pnl == D("-0.1")
    closing = ex.executions()[1]
    assert (closing.closed_size, ex.executions()[0].closed_size) == (D("0.100"), D("0"))


def test_maker_fill_pays_the_maker_rate(ex):
    limit(ex, "Sell", "0.100", "60001.0")
    ex.apply(trade(side="Buy", price="60002.0", size="1"))
    assert ex.wallet().fees_paid == D("6000.1") * D("0.0002")


def test_resting_orders_reserve_margin_and_fee(ex):
    limit(ex, "Buy", "0.100", "59000.0")
    w = ex.wallet()
    assert w.total_order_im == D("590.0") + D("5900") * TAKER
    assert w.available_balance == D(10_000) - w.total_order_im


def test_set_leverage_rules(ex):
    with pytest.raises(BybitError) as err:
        ex.set_leverage(symbol=SYMBOL, buy_leverage=D(10), sell_leverage=D(10), now_ms=T0)
    assert err.value.code == 110043
    for bad in ((D(0), D(0)), (D(101), D(101)), (D(5), D(6))):
        with pytest.raises(BybitError) as err:
            ex.set_leverage(symbol=SYMBOL, buy_leverage=bad[0], sell_leverage=bad[1], now_ms=T0)
        assert err.value.code == 10001
    market(ex, "Buy", "0.600")  # value 36001.4
    ex.set_leverage(symbol=SYMBOL, buy_leverage=D(20), sell_leverage=D(20), now_ms=T0)
    assert ex.positions(symbol=SYMBOL)[0].position_im == D("1800.07")
    with pytest.raises(BybitError) as err:  # 1x needs 34201.33 more margin than the account has
        ex.set_leverage(symbol=SYMBOL, buy_leverage=D(1), sell_leverage=D(1), now_ms=T0)
    assert err.value.code == 110007
    assert ex.positions(symbol=SYMBOL)[0].leverage == 20


def test_insufficient_balance_counts_margin_and_fee():
    ex = Exchange(symbols=[SYMBOL], balance=D(1000))
    ex.apply(book(bids=[("59999.0", "5")], asks=[("60000.0", "5")]))
    # 0.160 @ 60000: value 9600, IM 960 + fee 5.28 = 965.28 fits; 0.170: 1020 + 5.61 does not
    limit(ex, "Buy", "0.160", "59000.0")
    ex.cancel_all(now_ms=T0)
    with pytest.raises(BybitError) as err:
        ex.place_order(symbol=SYMBOL, side="Buy", order_type="Market", qty=D("0.170"), now_ms=T0)
    assert err.value.code == 110007


def test_liquidation_closes_at_mark_and_the_balance_stops_at_zero():
    ex = Exchange(symbols=[SYMBOL], balance=D(1000))
    ex.apply(book(bids=[("60000.0", "5")], asks=[("60001.0", "5")]))
    ex.set_leverage(symbol=SYMBOL, buy_leverage=D(100), sell_leverage=D(100), now_ms=T0)
    market(ex, "Buy", "1.000")  # value 60001, IM 600.01, fee 33.00055
    p = ex.positions(symbol=SYMBOL)[0]
    # equity meets maintenance margin (60001 * 0.005) at (60001 + 300.005 - (1000 - 33.00055)) / 1
    assert p.liq_price == D("59334.0")
    ex.apply(book(bids=[("59400.0", "5")], asks=[("59401.0", "5")], u=2, ts=T0 + 1))
    assert ex.positions(symbol=SYMBOL)[0].size == D("1.000")
    ex.apply(book(bids=[("59000.0", "5")], asks=[("59001.0", "5")], u=3, ts=T0 + 2))
    p = ex.positions(symbol=SYMBOL)[0]
    assert p.size == 0
    bust = ex.executions()[0]
    assert (bust.exec_type, bust.exec_price, bust.exec_ms) == ("BustTrade", D("59000.50"), T0 + 2)
    w = ex.wallet()
    assert w.wallet_balance == 0 and w.equity == 0
    assert w.bankruptcy_cover == D("-1000") + D("33.00055") + D("1000.5") + D("59000.50") * TAKER
