"""Order-request checks in Bybit's order and with its error codes, and deterministic UUID-shaped ids."""

from __future__ import annotations

import uuid
from decimal import Decimal, InvalidOperation

from common.bybit.constants import DUPLICATE_ORDER_LINK_ID, MAX_ORDER_LINK_ID, MIN_NOTIONAL, PARAMS_ERROR
from common.bybit.enums import OrderType, Side, StopOrderType, TimeInForce, TriggerBy
from common.bybit.errors import BybitError
from exchange_sim.engine.instruments import Instrument
from exchange_sim.engine.records import ZERO

SIDES = (Side.BUY, Side.SELL)
ORDER_TYPES = (OrderType.MARKET, OrderType.LIMIT)
TIME_IN_FORCE = (TimeInForce.GTC, TimeInForce.IOC, TimeInForce.FOK, TimeInForce.POST_ONLY)
TRIGGER_BY = (TriggerBy.LAST_PRICE, TriggerBy.MARK_PRICE, TriggerBy.INDEX_PRICE)


def to_decimal(value: Decimal | str | int | None, *, name: str) -> Decimal | None:
    """Accept a Decimal, or the string/int the wire carried; None stays None."""
    if value is None or isinstance(value, Decimal):
        return value
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise BybitError(PARAMS_ERROR, f"{name} {value!r} is not a number") from None


def make_id(*, prefix: int, n: int) -> str:
    """The n-th id of a kind, shaped like Bybit's UUID order and execution ids."""
    return str(uuid.UUID(int=(prefix << 64) | n))


def check_request(*, instrument: Instrument, side: str, order_type: str, qty: Decimal, price: Decimal | None,
                  time_in_force: str, order_link_id: str, used_link_ids: set[str] | dict, reduce_only: bool = False,
                  market_price: Decimal | None = None) -> None:
    """Raise the BybitError Bybit would return for a malformed place-order request
    (https://bybit-exchange.github.io/docs/v5/order/create-order)."""
    if side not in SIDES:
        raise BybitError(PARAMS_ERROR, f"side {side!r} must be Buy or Sell")
    if order_type not in ORDER_TYPES:
        raise BybitError(PARAMS_ERROR, f"orderType {order_type!r} must be Market or Limit")
    if time_in_force not in TIME_IN_FORCE:
        raise BybitError(PARAMS_ERROR, f"timeInForce {time_in_force!r} is not supported")
    if len(order_link_id) > MAX_ORDER_LINK_ID:  # create-order: "orderLinkId ... A max of 36 characters"
        raise BybitError(PARAMS_ERROR, f"order link id is longer than {MAX_ORDER_LINK_ID}")
    if order_link_id and order_link_id in used_link_ids:
        raise BybitError(DUPLICATE_ORDER_LINK_ID, f"OrderLinkedID is duplicate: {order_link_id}")
    instrument.check_qty(qty)
    if order_type == OrderType.LIMIT:
        if price is None:
            raise BybitError(PARAMS_ERROR, "price is required for a Limit order")
        instrument.check_price(price)
    else:
        instrument.check_market_qty(qty)
    # minNotionalValue (instruments-info lotSizeFilter) holds for orders that may open a position;
    # a Market order is valued at the market price. Reduce-only orders are exempt, as Bybit exempts closes.
    value_price = price if order_type == OrderType.LIMIT else market_price
    if not reduce_only and value_price and value_price * qty < instrument.min_notional:
        raise BybitError(MIN_NOTIONAL, f"Order does not meet minimum order value {instrument.min_notional}USDT")


def check_tpsl(*, instrument: Instrument, direction: int, base: Decimal, take_profit: Decimal,
               stop_loss: Decimal, what: str = "order") -> None:
    """A long's TP must sit above `base` and its SL below (a short's the other way round); 0 = none."""
    side = Side.BUY if direction > 0 else Side.SELL
    for name, price, above in ((StopOrderType.TAKE_PROFIT, take_profit, direction > 0),
                               (StopOrderType.STOP_LOSS, stop_loss, direction < 0)):
        if not price:
            continue
        instrument.check_price(price)
        if base and (price <= base if above else price >= base):
            where = "higher" if above else "lower"
            raise BybitError(PARAMS_ERROR, f"{name}:{price} set for {side} {what} should be {where} than "
                                        f"base_price:{base}")


def check_trigger_by(value: str | None) -> None:
    if value is not None and value not in TRIGGER_BY:
        raise BybitError(PARAMS_ERROR, f"triggerBy {value!r} must be LastPrice, MarkPrice or IndexPrice")


def nonzero(value: Decimal | None) -> Decimal:
    return value if value else ZERO
