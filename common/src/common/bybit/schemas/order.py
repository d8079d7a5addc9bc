"""Orders: /v5/order/* requests and results, and the private `order` topic."""

from __future__ import annotations

from common.bybit.enums import CancelType, Category, RejectReason
import builtins

import msgspec

from common.schemas.execution import OrderEvent


class OrderRequest(msgspec.Struct, kw_only=True, omit_defaults=True):
    """One order as create-batch lists it: create's fields without `category`, which the batch names
    once. Unset optionals never reach the wire."""

    symbol: str
    side: str
    orderType: str
    qty: str
    price: str | None = None
    timeInForce: str | None = None
    orderLinkId: str | None = None
    reduceOnly: bool | None = None
    closeOnTrigger: bool | None = None
    takeProfit: str | None = None
    stopLoss: str | None = None
    tpTriggerBy: str | None = None
    slTriggerBy: str | None = None
    positionIdx: int | None = None
    triggerPrice: str | None = None  # a conditional order, held Untriggered until the price crosses it
    triggerDirection: int | None = None  # 1: rises to triggerPrice, 2: falls to it
    triggerBy: str | None = None  # the price the trigger watches (LastPrice by default)
    tpslMode: str | None = None


class PlaceOrderParams(OrderRequest, kw_only=True, omit_defaults=True):
    """POST /v5/order/create: one order and its category."""

    category: str


class BatchPlaceParams(msgspec.Struct, kw_only=True):
    """POST /v5/order/create-batch (https://bybit-exchange.github.io/docs/v5/order/batch-place)."""

    category: str
    request: builtins.list[OrderRequest]


class BatchOrderId(msgspec.Struct, kw_only=True):
    """One order of a create-batch result; its orderId is "" where the order failed (retExtInfo says why)."""

    category: str = ""
    symbol: str = ""
    orderId: str = ""
    orderLinkId: str = ""
    createAt: str = ""


class BatchPlaceResult(msgspec.Struct, kw_only=True):
    list: builtins.list[BatchOrderId]  # Bybit names the field `list`, shadowing the builtin here


class BatchCode(msgspec.Struct, kw_only=True):
    """One order's outcome in a batch's retExtInfo.list, in the request's order."""

    code: int
    msg: str


class BatchExtInfo(msgspec.Struct, kw_only=True):
    list: builtins.list[BatchCode]


class AmendOrderParams(msgspec.Struct, kw_only=True, omit_defaults=True):
    """POST /v5/order/amend: by orderId or orderLinkId."""

    category: str
    symbol: str
    orderId: str | None = None
    orderLinkId: str | None = None
    qty: str | None = None
    price: str | None = None
    takeProfit: str | None = None
    stopLoss: str | None = None


class CancelOrderParams(msgspec.Struct, kw_only=True, omit_defaults=True):
    """POST /v5/order/cancel: by orderId or orderLinkId."""

    category: str
    symbol: str
    orderId: str | None = None
    orderLinkId: str | None = None


class CancelAllParams(msgspec.Struct, kw_only=True, omit_defaults=True):
    """POST /v5/order/cancel-all: one symbol, or every symbol settled in settleCoin."""

    category: str
    symbol: str | None = None
    settleCoin: str | None = None
    orderFilter: str | None = None  # Order | StopOrder; unset: both


class OrderId(msgspec.Struct, kw_only=True):
    """The result of create, amend and cancel."""

    orderId: str
    orderLinkId: str


class CancelAllResult(msgspec.Struct, kw_only=True):
    list: builtins.list[OrderId]  # Bybit names the field `list`, shadowing the builtin here
    success: str = "1"


class Order(msgspec.Struct, kw_only=True):
    """An order as /v5/order/realtime, /v5/order/history and the `order` topic show it."""

    orderId: str
    orderLinkId: str
    symbol: str
    side: str
    orderType: str
    price: str  # "0" for market orders
    qty: str
    orderStatus: str
    timeInForce: str
    avgPrice: str = ""
    leavesQty: str = "0"
    leavesValue: str = "0"
    cumExecQty: str = "0"
    cumExecValue: str = "0"
    cumExecFee: str = "0"
    reduceOnly: bool = False
    closeOnTrigger: bool = False
    rejectReason: str = RejectReason.NO_ERROR
    cancelType: str = CancelType.UNKNOWN
    stopOrderType: str = ""  # "Stop" (conditional), "TakeProfit", "StopLoss", "PartialTakeProfit", ...
    triggerPrice: str = ""
    triggerDirection: int = 0  # 1 rise, 2 fall; 0 on an ordinary order
    triggerBy: str = ""
    tpslMode: str = ""  # Full | Partial on contract orders with TP/SL (clients tell contracts from spot by it)
    cumFeeDetail: dict[str, str] = {}  # fee paid per coin, e.g. {"USDT": "0.0132"}
    takeProfit: str = ""
    stopLoss: str = ""
    tpTriggerBy: str = ""
    slTriggerBy: str = ""
    positionIdx: int = 0  # 0 = one-way mode
    createdTime: str = ""  # ms
    updatedTime: str = ""  # ms
    category: str = Category.LINEAR

    def to_order_event(self, *, ts_ns: int) -> OrderEvent:
        """The `exec.events` message of this order's state; Bybit's "EC_NoError" becomes no reason."""
        return OrderEvent(
            order_link_id=self.orderLinkId, order_id=self.orderId, symbol=self.symbol, side=self.side,
            status=self.orderStatus, order_type=self.orderType, qty=self.qty, filled_qty=self.cumExecQty,
            price=self.price, avg_price=self.avgPrice, reduce_only=self.reduceOnly, take_profit=self.takeProfit,
            stop_loss=self.stopLoss, reject_reason="" if self.rejectReason == RejectReason.NO_ERROR else self.rejectReason,
            ts_ns=ts_ns)
