"""The `order` topic's Struct: decoding a recorded frame, Bybit's field names on the wire, and the
OrderEvent it becomes on `exec.events` (live and replay alike)."""

from __future__ import annotations

import msgspec
import pytest

from common.bybit.enums import OrderStatus, OrderType, RejectReason, Side, TimeInForce
from common.bybit.schemas.envelope import PrivateMsg
from common.bybit.schemas.order import Order
from common.bybit.ws import parse
from common.schemas import OrderEvent
from tests.common.bybit.recorded import frame

pytestmark = pytest.mark.unit


def test_the_order_topic_decodes():
    msg = parse(frame("order.json"))
    assert isinstance(msg, PrivateMsg) and msg.creationTime > 0
    assert msg.data[0].orderStatus == OrderStatus.FILLED


def test_order_struct_roundtrip_keeps_bybit_names():
    raw = msgspec.json.encode(Order(orderId="1", orderLinkId="l", symbol="BTCUSDT", side=Side.BUY,
                                    orderType=OrderType.LIMIT, price="100.10", qty="0.010",
                                    orderStatus=OrderStatus.NEW, timeInForce=TimeInForce.GTC))
    assert b'"orderLinkId":"l"' in raw and b'"price":"100.10"' in raw


def test_an_order_becomes_its_event_with_tp_and_sl():
    o = Order(orderId="9", orderLinkId="s-1", symbol="BTCUSDT", side=Side.BUY, orderType=OrderType.LIMIT,
              price="100.1", qty="0.01", orderStatus=OrderStatus.PARTIALLY_FILLED, timeInForce=TimeInForce.GTC,
              avgPrice="100.1", cumExecQty="0.004", reduceOnly=False, takeProfit="101.5", stopLoss="99.2")
    assert o.to_order_event(ts_ns=7) == OrderEvent(
        order_link_id="s-1", order_id="9", symbol="BTCUSDT", side="Buy", status="PartiallyFilled",
        order_type="Limit", qty="0.01", filled_qty="0.004", price="100.1", avg_price="100.1",
        reduce_only=False, take_profit="101.5", stop_loss="99.2", reject_reason="", ts_ns=7)


def test_bybits_no_error_reason_is_no_reason_and_a_real_one_is_kept():
    filled = parse(frame("order.json")).data[0]
    assert filled.rejectReason == RejectReason.NO_ERROR and filled.to_order_event(ts_ns=1).reject_reason == ""
    crossed = msgspec.structs.replace(filled, rejectReason=RejectReason.POST_ONLY_WILL_TAKE_LIQUIDITY)
    assert crossed.to_order_event(ts_ns=1).reject_reason == "EC_PostOnlyWillTakeLiquidity"
