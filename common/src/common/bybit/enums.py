"""Bybit's enumerations; every value is the exact wire string."""

from __future__ import annotations

from enum import IntEnum, StrEnum, unique


@unique
class Category(StrEnum):
    LINEAR = "linear"
    INVERSE = "inverse"  # not traded here: list endpoints answer it with an empty list, as Bybit does
    SPOT = "spot"
    OPTION = "option"


@unique
class Side(StrEnum):
    BUY = "Buy"
    SELL = "Sell"
    NONE = ""  # a flat position


@unique
class OrderType(StrEnum):
    MARKET = "Market"
    LIMIT = "Limit"


@unique
class TimeInForce(StrEnum):
    GTC = "GTC"
    IOC = "IOC"
    FOK = "FOK"
    POST_ONLY = "PostOnly"


@unique
class OrderStatus(StrEnum):
    """orderStatus (https://bybit-exchange.github.io/docs/v5/enum#orderstatus)."""

    CREATED = "Created"  # accepted, not yet through the matching engine (earlier versions of the page)
    NEW = "New"
    PARTIALLY_FILLED = "PartiallyFilled"
    UNTRIGGERED = "Untriggered"  # a conditional order waiting for its trigger
    FILLED = "Filled"
    CANCELLED = "Cancelled"  # in derivatives an order with this status may have an executed qty
    PARTIALLY_FILLED_CANCELED = "PartiallyFilledCanceled"  # spot only; Bybit spells it with one "l"
    REJECTED = "Rejected"
    TRIGGERED = "Triggered"  # instantaneous: a conditional order between Untriggered and New
    DEACTIVATED = "Deactivated"  # a TP/SL or conditional order cancelled before it triggered


# The page's "open status" group (New, PartiallyFilled, Untriggered) plus Created, which the same page
# listed as open before: an order in it may still fill, so it must never be dropped from the open set.
OPEN_STATUSES = frozenset({
    OrderStatus.CREATED, OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED, OrderStatus.UNTRIGGERED})


@unique
class RejectReason(StrEnum):
    """rejectReason: why Bybit cancelled or rejected an order (EC_NoError when it did not)."""

    NO_ERROR = "EC_NoError"
    POST_ONLY_WILL_TAKE_LIQUIDITY = "EC_PostOnlyWillTakeLiquidity"  # a PostOnly that would have crossed
    NO_IMMEDIATE_QTY_TO_FILL = "EC_NoImmediateQtyToFill"  # an IOC with nothing to take
    NO_ENOUGH_QTY_TO_FILL = "EC_NoEnoughQtyToFill"  # a FOK the book could not fill whole
    PER_CANCEL_REQUEST = "EC_PerCancelRequest"  # cancelled on request
    OTHERS = "EC_Others"  # any other reason (the simulator: a triggered order the margin cannot cover)


@unique
class CancelType(StrEnum):
    """cancelType: who cancelled an order (UNKNOWN while it is not cancelled)."""

    UNKNOWN = "UNKNOWN"
    CANCEL_BY_USER = "CancelByUser"
    CANCEL_BY_REDUCE_ONLY = "CancelByReduceOnly"  # a reduce-only order the position no longer covers


@unique
class StopOrderType(StrEnum):
    """stopOrderType ("" on an ordinary order; https://bybit-exchange.github.io/docs/v5/enum#stopordertype)."""

    TAKE_PROFIT = "TakeProfit"
    STOP_LOSS = "StopLoss"
    TRAILING_STOP = "TrailingStop"
    STOP = "Stop"  # a conditional order (triggerPrice)
    PARTIAL_TAKE_PROFIT = "PartialTakeProfit"
    PARTIAL_STOP_LOSS = "PartialStopLoss"


@unique
class OrderFilter(StrEnum):
    """orderFilter of realtime, history and cancel-all: ordinary orders, conditional ones, or both (unset)."""

    ORDER = "Order"
    STOP_ORDER = "StopOrder"


@unique
class TriggerDirection(IntEnum):
    """triggerDirection of a conditional order (https://bybit-exchange.github.io/docs/v5/order/create-order)."""

    RISE = 1  # triggered when the market price rises to triggerPrice
    FALL = 2  # triggered when the market price falls to triggerPrice


@unique
class PositionIdx(IntEnum):
    """positionIdx (https://bybit-exchange.github.io/docs/v5/enum#positionidx)."""

    ONE_WAY = 0
    HEDGE_BUY = 1
    HEDGE_SELL = 2


@unique
class PositionMode(IntEnum):
    """mode of /v5/position/switch-mode (https://bybit-exchange.github.io/docs/v5/position/position-mode)."""

    MERGED_SINGLE = 0  # one-way
    BOTH_SIDES = 3  # hedge


@unique
class ExecType(StrEnum):
    """execType of an execution: fills are Trade (ours), BustTrade (a liquidation's) and AdlTrade."""

    TRADE = "Trade"
    BUST_TRADE = "BustTrade"
    ADL_TRADE = "AdlTrade"  # auto-deleveraging closed part of the position
    FUNDING = "Funding"


@unique
class TpslMode(StrEnum):
    FULL = "Full"  # the TP/SL closes the whole position
    PARTIAL = "Partial"  # separate TP/SL orders of tpSize/slSize


@unique
class AccountType(StrEnum):
    UNIFIED = "UNIFIED"  # the unified trading account, the only one we trade in


@unique
class TriggerBy(StrEnum):
    LAST_PRICE = "LastPrice"
    MARK_PRICE = "MarkPrice"
    INDEX_PRICE = "IndexPrice"


@unique
class BookMsgType(StrEnum):
    SNAPSHOT = "snapshot"
    DELTA = "delta"


@unique
class WsOp(StrEnum):
    SUBSCRIBE = "subscribe"
    UNSUBSCRIBE = "unsubscribe"
    PING = "ping"
    PONG = "pong"
    AUTH = "auth"


@unique
class PrivateTopic(StrEnum):
    ORDER = "order"
    EXECUTION = "execution"
    POSITION = "position"
    WALLET = "wallet"
