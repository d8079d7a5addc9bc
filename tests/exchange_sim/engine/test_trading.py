"""Trading against a hand-made book: order entry with each time-in-force, filters and error codes, amend and
cancel; TP/SL set with the order or by trading-stop, triggered by last or mark price, closed by market order."""

from __future__ import annotations

import pytest

from common.bybit.errors import BybitError
from tests.exchange_sim.engine.conftest import BIDS, SYMBOL, T0, D, book, trade

pytestmark = pytest.mark.unit


def market(ex, side, qty, **kw):
    return ex.place_order(symbol=SYMBOL, side=side, order_type="Market", qty=D(qty), now_ms=T0, **kw)


def place(ex, **kw):
    kw.setdefault("symbol", SYMBOL)
    kw.setdefault("order_type", "Limit")
    return ex.place_order(now_ms=T0, **kw)


def test_market_order_walks_the_book_as_taker(ex):
    order = place(ex, side="Buy", order_type="Market", qty=D("0.150"))
    assert (order.order_status, order.cum_exec_qty, order.time_in_force) == ("Filled", D("0.150"), "IOC")
    fills = ex.executions(order_id=order.order_id)
    assert [(f.exec_price, f.exec_qty, f.is_maker) for f in reversed(fills)] == [
        (D("60001.0"), D("0.100"), False), (D("60002.0"), D("0.050"), False)]
    assert order.cum_exec_value == D("9000.2")
    assert order.cum_exec_fee == D("9000.2") * D("0.00055")


@pytest.mark.parametrize("tif", ["PostOnly", "FOK", "GTC"])
def test_market_orders_are_always_ioc(ex, tif):
    order = place(ex, side="Sell", order_type="Market", qty=D("0.700"), time_in_force=tif)
    assert (order.time_in_force, order.order_status, order.cum_exec_qty) == ("IOC", "Cancelled", D("0.600"))


def test_market_order_stops_at_the_slippage_cap_and_cancels_the_rest(ex):
    ex.apply(book(bids=BIDS, asks=[("60001.0", "0.100"), ("70000.0", "5.000")], u=2, kind="snapshot"))
    order = place(ex, side="Buy", order_type="Market", qty=D("0.500"))
    assert (order.order_status, order.cum_exec_qty) == ("Cancelled", D("0.100"))


def test_ioc_fills_what_it_can_and_cancels_the_remainder(ex):
    order = place(ex, side="Buy", qty=D("0.500"), price=D("60002.0"), time_in_force="IOC")
    assert order.order_status == "Cancelled"
    assert order.cum_exec_qty == D("0.300")
    assert order.reject_reason == "EC_NoImmediateQtyToFill"
    assert ex.open_orders(symbol=SYMBOL) == []


def test_fok_is_all_or_nothing(ex):
    killed = place(ex, side="Buy", qty=D("0.700"), price=D("60003.0"), time_in_force="FOK")
    assert (killed.order_status, killed.cum_exec_qty) == ("Cancelled", D(0))
    assert killed.reject_reason == "EC_NoEnoughQtyToFill"
    filled = place(ex, side="Buy", qty=D("0.600"), price=D("60003.0"), time_in_force="FOK")
    assert (filled.order_status, filled.cum_exec_qty) == ("Filled", D("0.600"))


def test_post_only_that_would_cross_is_cancelled_and_one_that_would_not_rests(ex):
    crossing = place(ex, side="Buy", qty=D("0.010"), price=D("60001.0"), time_in_force="PostOnly")
    assert crossing.order_status == "Cancelled"
    assert crossing.reject_reason == "EC_PostOnlyWillTakeLiquidity"
    assert ex.executions() == []
    resting = place(ex, side="Sell", qty=D("0.010"), price=D("60001.0"), time_in_force="PostOnly")
    assert resting.order_status == "New"
    assert [o.order_id for o in ex.open_orders(symbol=SYMBOL)] == [resting.order_id]


def test_resting_order_waits_behind_the_queue_then_fills_as_maker(ex):
    order = place(ex, side="Buy", qty=D("0.100"), price=D("60000.0"))  # 0.100 already queued there
    ex.apply(trade(side="Sell", price="60000.0", size="0.080"))
    assert ex.open_orders(order_id=order.order_id)[0].cum_exec_qty == 0
    ex.apply(trade(side="Sell", price="60000.0", size="0.050"))  # 0.020 of queue left, 0.030 for us
    now = ex.open_orders(order_id=order.order_id)[0]
    assert (now.order_status, now.cum_exec_qty) == ("PartiallyFilled", D("0.030"))
    ex.apply(trade(side="Sell", price="59999.0", size="0.500"))  # trades through our price
    done = ex.order_history(order_id=order.order_id)[0]
    assert (done.order_status, done.cum_exec_qty, done.avg_price) == ("Filled", D("0.100"), D("60000.0"))
    fills = ex.executions(order_id=order.order_id)
    assert all(f.is_maker and f.fee_rate == D("0.0002") and f.exec_price == D("60000.0") for f in fills)
    assert sum(f.exec_qty for f in fills) == D("0.100")


def test_book_crossing_a_resting_order_fills_it_up_to_the_shown_size(ex):
    order = place(ex, side="Buy", qty=D("0.100"), price=D("60000.5"))
    ex.apply(book(bids=[("59999.5", "1")], asks=[("59999.8", "0.040"), ("60000.5", "0.010"),
                                                  ("60000.6", "9")], u=2, kind="snapshot"))
    now = ex.open_orders(order_id=order.order_id)[0]
    assert now.cum_exec_qty == D("0.050")
    assert ex.executions(order_id=order.order_id)[0].exec_price == D("60000.5")


def test_own_orders_fill_in_price_then_time_priority(ex):
    first = place(ex, side="Sell", qty=D("0.010"), price=D("60005.0"))
    second = place(ex, side="Sell", qty=D("0.010"), price=D("60005.0"))
    better = place(ex, side="Sell", qty=D("0.010"), price=D("60004.0"))
    ex.apply(trade(side="Buy", price="60006.0", size="0.025"))
    got = {o.order_id: o.cum_exec_qty for o in ex.order_history(symbol=SYMBOL)}
    assert [got[o.order_id] for o in (better, first, second)] == [D("0.010"), D("0.010"), D("0.005")]


@pytest.mark.parametrize(("kw", "code"), [
    (dict(qty=D("0.0005"), price=D("60000.0")), 170136),
    (dict(qty=D("0.0015"), price=D("60000.0")), 170137),
    (dict(qty=D("5000"), price=D("60000.0")), 170135),
    (dict(qty=D("0.010"), price=D("60000.05")), 170134),
    (dict(qty=D("0.010"), price=None), 10001),
    (dict(qty=D("0.001"), price=D("1000.0")), 110094),
    (dict(qty=D("0.010"), price=D("60000.0"), time_in_force="GTD"), 10001),
    (dict(qty=D("0.010"), price=D("60000.0"), side="Long"), 10001),
    (dict(qty=D("0.010"), price=D("60000.0"), symbol="NOPEUSDT"), 10001),
    (dict(qty=D("2.000"), price=D("60000.0")), 110007),
    (dict(qty=D("0.010"), price=D("60000.0"), take_profit=D("59000.0")), 10001),
    (dict(qty=D("0.010"), price=D("60000.0"), stop_loss=D("61000.0")), 10001),
])
def test_bad_requests_raise_bybit_codes(ex, kw, code):
    kw.setdefault("side", "Buy")
    with pytest.raises(BybitError) as err:
        place(ex, **kw)
    assert err.value.code == code
    assert ex.order_history() == []


def test_duplicate_order_link_id_is_110072(ex):
    place(ex, side="Buy", qty=D("0.010"), price=D("59000.0"), order_link_id="a1")
    with pytest.raises(BybitError) as err:
        place(ex, side="Buy", qty=D("0.010"), price=D("59000.0"), order_link_id="a1")
    assert err.value.code == 110072
    assert ex.open_orders(order_link_id="a1")[0].price == D("59000.0")


def test_reduce_only_needs_an_opposite_position_and_is_clipped_to_it(ex):
    for side in ("Sell", "Buy"):
        with pytest.raises(BybitError) as err:
            place(ex, side=side, order_type="Market", qty=D("0.010"), reduce_only=True)
        assert err.value.code == 110017
    place(ex, side="Buy", order_type="Market", qty=D("0.050"))
    with pytest.raises(BybitError) as err:
        place(ex, side="Buy", order_type="Market", qty=D("0.010"), reduce_only=True)
    assert err.value.code == 110017
    close = place(ex, side="Sell", order_type="Market", qty=D("0.500"), reduce_only=True)
    assert (close.qty, close.cum_exec_qty, close.order_status) == (D("0.050"), D("0.050"), "Filled")
    assert ex.positions(symbol=SYMBOL)[0].size == 0


def test_resting_reduce_only_order_is_cancelled_once_the_position_is_gone(ex):
    place(ex, side="Buy", order_type="Market", qty=D("0.050"))
    tp = place(ex, side="Sell", qty=D("0.050"), price=D("60100.0"), reduce_only=True)
    place(ex, side="Sell", order_type="Market", qty=D("0.030"))
    assert ex.open_orders(order_id=tp.order_id)[0].qty == D("0.020")
    place(ex, side="Sell", order_type="Market", qty=D("0.020"))
    gone = ex.order_history(order_id=tp.order_id)[0]
    assert (gone.order_status, gone.cancel_type) == ("Cancelled", "CancelByReduceOnly")


def test_cancel_and_cancel_all(ex):
    a = place(ex, side="Buy", qty=D("0.010"), price=D("59000.0"))
    place(ex, side="Sell", qty=D("0.010"), price=D("61000.0"))
    done = ex.cancel_order(symbol=SYMBOL, order_id=a.order_id, now_ms=T0 + 1)
    assert (done.order_status, done.cancel_type, done.updated_ms) == ("Cancelled", "CancelByUser", T0 + 1)
    with pytest.raises(BybitError) as err:
        ex.cancel_order(symbol=SYMBOL, order_id=a.order_id, now_ms=T0)
    assert err.value.code == 110001
    assert len(ex.cancel_all(now_ms=T0)) == 1
    assert ex.open_orders() == []
    assert ex.wallet().total_order_im == 0


def test_amend_keeps_or_loses_queue_place_and_can_trade(ex):
    order = place(ex, side="Buy", qty=D("0.100"), price=D("60000.0"))
    ex.amend_order(symbol=SYMBOL, order_id=order.order_id, qty=D("0.050"), now_ms=T0)
    ex.apply(trade(side="Sell", price="60000.0", size="0.100"))  # still behind the 0.100 queued first
    assert ex.open_orders(order_id=order.order_id)[0].cum_exec_qty == 0
    with pytest.raises(BybitError) as err:
        ex.amend_order(symbol=SYMBOL, order_id=order.order_id, qty=D("0.050"), now_ms=T0)
    assert err.value.code == 10001
    amended = ex.amend_order(symbol=SYMBOL, order_id=order.order_id, price=D("60002.0"), now_ms=T0)
    assert (amended.order_status, amended.cum_exec_qty) == ("Filled", D("0.050"))
    assert ex.executions(order_id=order.order_id)[0].is_maker is False


def test_events_come_in_bybit_order_and_are_snapshots(ex):
    order = place(ex, side="Buy", order_type="Market", qty=D("0.150"))
    kinds = [k for k, _ in ex.drain_events()]
    assert kinds == ["execution", "execution", "order", "position", "wallet"]
    assert ex.drain_events() == []
    resting = place(ex, side="Sell", qty=D("0.010"), price=D("61000.0"))
    events = ex.drain_events()
    assert [k for k, _ in events] == ["order", "wallet"]
    ex.cancel_order(symbol=SYMBOL, order_id=resting.order_id, now_ms=T0)
    assert events[0][1].order_status == "New"  # the queued copy did not change with the order
    assert order.order_status == "Filled"


def test_order_history_is_bounded_but_keeps_open_orders(ex, monkeypatch):
    monkeypatch.setattr("exchange_sim.engine.trading.KEPT_ORDERS", 20)
    resting = place(ex, side="Buy", qty=D("0.010"), price=D("59000.0"), order_link_id="keep")
    for i in range(30):
        place(ex, side="Buy", order_type="Market", qty=D("0.001"), order_link_id=f"m{i}")
    orders = ex.order_history(limit=1000)
    assert len(orders) <= 20
    assert ex.open_orders(order_link_id="keep")[0].order_id == resting.order_id
    assert orders[0].order_link_id == "m29"
    assert ex.open_orders(order_link_id="m0") == []


def test_close_on_trigger_orders_only_reduce(ex):
    with pytest.raises(BybitError) as err:
        place(ex, side="Sell", order_type="Market", qty=D("0.010"), close_on_trigger=True)
    assert err.value.code == 110017
    place(ex, side="Buy", order_type="Market", qty=D("0.010"))
    close = place(ex, side="Sell", order_type="Market", qty=D("0.050"), close_on_trigger=True)
    assert (close.qty, close.reduce_only, close.close_on_trigger) == (D("0.010"), True, True)
    assert ex.positions(symbol=SYMBOL)[0].size == 0


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
