"""What the market sets off, against a hand-made book: conditional orders held Untriggered until their
trigger price is crossed, partial TP/SL orders, a trailing stop that follows the best price, TP/SL on
the index price, and positionIdx against the position mode."""

from __future__ import annotations

import pytest

from common.bybit.errors import BybitError
from exchange_sim.engine import TickerUpdate
from tests.exchange_sim.engine.conftest import SYMBOL, T0, D, trade

pytestmark = pytest.mark.unit


def long(ex, qty="0.010"):
    return ex.place_order(symbol=SYMBOL, side="Buy", order_type="Market", qty=D(qty), now_ms=T0)


def conditional(ex, *, trigger, direction, by="LastPrice", **kw):
    return ex.place_conditional(symbol=SYMBOL, side="Buy", order_type="Market", qty=D("0.010"), price=None,
                                time_in_force="IOC", reduce_only=False, close_on_trigger=False,
                                order_link_id=kw.pop("link", ""), take_profit=None, stop_loss=None,
                                tp_trigger_by="LastPrice", sl_trigger_by="LastPrice", position_idx=None,
                                trigger_price=D(trigger), trigger_direction=direction, trigger_by=by, now_ms=T0)


def test_a_conditional_order_waits_then_fills_once_crossed(ex):
    order = conditional(ex, trigger="60010.0", direction=1, link="c-1")
    assert (order.order_status, order.stop_order_type, order.trigger_price) == ("Untriggered", "Stop", D("60010.0"))
    ex.apply(trade(side="Buy", price="60005.0", size="0.001"))  # not there yet
    assert ex.open_orders(order_link_id="c-1")[0].order_status == "Untriggered"
    ex.drain_events()
    ex.apply(trade(side="Buy", price="60010.0", size="0.001"))
    done = ex.open_orders(order_link_id="c-1")[0]
    assert done.order_status == "Filled" and ex.positions(symbol=SYMBOL)[0].size == D("0.010")
    statuses = [o.order_status for kind, o in ex.drain_events() if kind == "order"]
    assert statuses[:2] == ["Triggered", "Filled"]


def test_a_trigger_on_the_wrong_side_is_refused_and_a_cancel_deactivates(ex):
    with pytest.raises(BybitError) as e:
        conditional(ex, trigger="59000.0", direction=1)
    assert e.value.code == 110092
    order = conditional(ex, trigger="59000.0", direction=2, link="c-2")
    ex.cancel_order(symbol=SYMBOL, order_link_id="c-2", now_ms=T0)
    assert ex.open_orders(order_id=order.order_id)[0].order_status == "Deactivated"


def test_partial_tp_sl_orders_close_their_size_only(ex):
    long(ex)
    ex.set_trading_stop(symbol=SYMBOL, tpsl_mode="Partial", take_profit=D("60100.0"), tp_size=D("0.004"),
                        now_ms=T0)
    assert ex.positions(symbol=SYMBOL)[0].take_profit == 0
    ex.apply(trade(side="Buy", price="60100.0", size="0.001"))
    assert ex.positions(symbol=SYMBOL)[0].size == D("0.006")


def test_a_trailing_stop_follows_the_best_price(ex):
    long(ex)
    ex.set_trading_stop(symbol=SYMBOL, trailing_stop=D("10.0"), now_ms=T0)
    for price in ("60020.0", "60040.0", "60031.0"):  # the best is 60040: the stop sits at 60030
        ex.apply(trade(side="Buy", price=price, size="0.001"))
    assert ex.positions(symbol=SYMBOL)[0].size == D("0.010")
    ex.apply(trade(side="Sell", price="60030.0", size="0.001"))
    assert ex.positions(symbol=SYMBOL)[0].size == 0
    closing = ex.order_history(symbol=SYMBOL)[0]
    assert (closing.stop_order_type, closing.trigger_price) == ("TrailingStop", D("60030.0"))


def test_take_profit_on_the_index_price(ex):
    long(ex)
    ex.set_trading_stop(symbol=SYMBOL, take_profit=D("60500.0"), tp_trigger_by="IndexPrice", now_ms=T0)
    ex.apply(trade(side="Buy", price="60600.0", size="0.001"))  # the last price passing it does nothing
    assert ex.positions(symbol=SYMBOL)[0].size == D("0.010")
    ex.apply(TickerUpdate(symbol=SYMBOL, mark_price=None, index_price=D("60500.0"), funding_rate=None,
                          next_funding_ms=None, ts_ms=T0))
    assert ex.positions(symbol=SYMBOL)[0].size == 0


def test_position_idx_must_match_the_position_mode(ex):
    with pytest.raises(BybitError, match="position idx not match"):
        ex.place_order(symbol=SYMBOL, side="Buy", order_type="Market", qty=D("0.010"), position_idx=1, now_ms=T0)
    ex.switch_mode(symbols=[SYMBOL], hedge=True)
    order = ex.place_order(symbol=SYMBOL, side="Buy", order_type="Market", qty=D("0.010"), position_idx=1,
                           now_ms=T0)
    assert order.position_idx == 1 and [p.position_idx for p in ex.positions(symbol=SYMBOL)] == [1, 2]
    with pytest.raises(BybitError) as e:
        ex.switch_mode(symbols=[SYMBOL], hedge=False)
    assert e.value.code == 110024


def test_a_triggered_order_the_margin_cannot_cover_is_cancelled(ex):
    order = ex.place_conditional(symbol=SYMBOL, side="Buy", order_type="Limit", qty=D("10.000"),
                                 price=D("60020.0"), time_in_force="GTC", reduce_only=False, close_on_trigger=False,
                                 order_link_id="big", take_profit=None, stop_loss=None, tp_trigger_by="LastPrice",
                                 sl_trigger_by="LastPrice", position_idx=None, trigger_price=D("60010.0"),
                                 trigger_direction=1, trigger_by="LastPrice", now_ms=T0)
    assert order.order_status == "Untriggered"  # 600,000 USDT of BTC on 10,000: no margin held while waiting
    ex.apply(trade(side="Buy", price="60010.0", size="0.001"))
    done = ex.open_orders(order_link_id="big")[0]
    assert (done.order_status, done.reject_reason) == ("Cancelled", "EC_Others")
    assert ex.positions(symbol=SYMBOL)[0].size == 0
