"""TP/SL: set with the order or by trading-stop, triggered by last or mark price, closed by market order."""

from __future__ import annotations

import pytest

from common.bybit.errors import BybitError
from tests.exchange_sim.engine.conftest import SYMBOL, T0, D, book, trade


def market(ex, side, qty, **kw):
    return ex.place_order(symbol=SYMBOL, side=side, order_type="Market", qty=D(qty), now_ms=T0, **kw)


def test_trading_stop_on_a_flat_position_is_10001(ex):
    with pytest.raises(BybitError) as err:
        ex.set_trading_stop(symbol=SYMBOL, take_profit=D("61000.0"), now_ms=T0)
    assert (err.value.code, err.value.message) == (10001, "can not set tp/sl/ts for zero position")


def test_long_take_profit_triggers_on_last_price(ex):
    market(ex, "Buy", "0.050")
    ex.set_trading_stop(symbol=SYMBOL, take_profit=D("60100.0"), stop_loss=D("59900.0"), now_ms=T0)
    ex.apply(trade(side="Buy", price="60099.0", size="0.001"))
    assert ex.positions(symbol=SYMBOL)[0].size == D("0.050")
    ex.apply(trade(side="Buy", price="60100.0", size="0.001", ts=T0 + 5))
    p = ex.positions(symbol=SYMBOL)[0]
    assert (p.size, p.take_profit, p.stop_loss) == (0, 0, 0)
    close = ex.order_history(symbol=SYMBOL)[0]
    assert (close.side, close.order_type, close.stop_order_type, close.trigger_price) == (
        "Sell", "Market", "TakeProfit", D("60100.0"))
    assert (close.reduce_only, close.order_status, close.created_ms) == (True, "Filled", T0 + 5)
    statuses = [o.order_status for k, o in ex.drain_events() if k == "order" and o.order_id == close.order_id]
    assert statuses[0] == "Triggered" and statuses[-1] == "Filled"


def test_short_stop_loss_triggers_on_mark_price(ex):
    market(ex, "Sell", "0.050")
    ex.set_trading_stop(symbol=SYMBOL, stop_loss=D("60100.0"), sl_trigger_by="MarkPrice", now_ms=T0)
    ex.apply(trade(side="Buy", price="60200.0", size="0.001"))  # last is through the SL, mark is not
    assert ex.positions(symbol=SYMBOL)[0].size == D("0.050")
    ex.apply(book(bids=[("60100.0", "1")], asks=[("60101.0", "1")], u=2))  # mark 60100.50
    assert ex.positions(symbol=SYMBOL)[0].size == 0
    close = ex.order_history(symbol=SYMBOL)[0]
    assert (close.side, close.stop_order_type) == ("Buy", "StopLoss")
    assert close.cum_exec_value == D("0.050") * D("60101.0")


def test_tp_sl_given_with_the_order_land_on_the_position(ex):
    market(ex, "Buy", "0.010", take_profit=D("62000.0"), stop_loss=D("59000.0"), sl_trigger_by="MarkPrice")
    p = ex.positions(symbol=SYMBOL)[0]
    assert (p.take_profit, p.stop_loss, p.tp_trigger_by, p.sl_trigger_by) == (
        D("62000.0"), D("59000.0"), "LastPrice", "MarkPrice")


def test_zero_cancels_one_side_and_none_keeps_it(ex):
    market(ex, "Buy", "0.010")
    ex.set_trading_stop(symbol=SYMBOL, take_profit=D("62000.0"), stop_loss=D("59000.0"), now_ms=T0)
    ex.set_trading_stop(symbol=SYMBOL, take_profit="0", now_ms=T0)
    p = ex.positions(symbol=SYMBOL)[0]
    assert (p.take_profit, p.stop_loss) == (0, D("59000.0"))


@pytest.mark.parametrize("kw", [
    {"take_profit": D("60000.0")},  # a long's TP below last
    {"stop_loss": D("60001.0")},  # a long's SL above last
    {"stop_loss": D("59000.05")},  # off the tick grid
    {"take_profit": D("62000.0"), "tp_trigger_by": "Foo"},
])
def test_trading_stop_on_the_wrong_side_of_price_is_rejected(ex, kw):
    market(ex, "Buy", "0.010")
    with pytest.raises(BybitError) as err:
        ex.set_trading_stop(symbol=SYMBOL, now_ms=T0, **kw)
    assert err.value.code in (10001, 170134)
    assert ex.positions(symbol=SYMBOL)[0].take_profit == 0
