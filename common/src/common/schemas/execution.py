"""exec.intents and exec.events.

SCHEMA_VERSION changelog:
  1: first version; since then, added with a default (older readers ignore it): OrderIntent.published_ts_ns.
"""

from __future__ import annotations

from common.bybit.enums import OrderType, TimeInForce
from common.schemas.base import Message

SCHEMA_VERSION = 1


class OrderIntent(Message, frozen=True, kw_only=True, tag="intent"):
    """A request to trade. `intent_id` becomes Bybit's orderLinkId, so a redelivery is harmless."""

    v: int = SCHEMA_VERSION
    intent_id: str
    symbol: str
    side: str  # "Buy" | "Sell"
    qty: str
    order_type: str = OrderType.MARKET  # "Market" | "Limit"
    price: str | None = None  # limit price
    time_in_force: str = TimeInForce.GTC  # GTC | IOC | FOK | PostOnly
    post_only_fallback: bool = False  # a rejected PostOnly is re-sent as a taker order
    reduce_only: bool = False
    take_profit: str | None = None
    stop_loss: str | None = None
    reference_price: str | None = None  # what the sender expected to pay, for slippage
    source: str = "strategy"  # "strategy" | "manual"
    created_ts_ns: int  # when the sender decided (the strategy: its bar's market time); the TTL counts from it
    published_ts_ns: int = 0  # when it went onto the bus (0: created_ts_ns stands for it), for latency
    market_exchange_ts_ns: int = 0  # the market message behind it, for tick-to-order latency
    market_received_ts_ns: int = 0


class OrderEvent(Message, frozen=True, kw_only=True, tag="order"):
    """An order's state as the exchange reports it."""

    v: int = SCHEMA_VERSION
    order_link_id: str
    order_id: str
    symbol: str
    side: str
    status: str  # Bybit's orderStatus: New, PartiallyFilled, Filled, Cancelled, Rejected, ...
    order_type: str
    qty: str
    filled_qty: str = "0"
    price: str = ""
    avg_price: str = ""
    reduce_only: bool = False
    take_profit: str = ""
    stop_loss: str = ""
    reject_reason: str = ""
    ts_ns: int


class FillEvent(Message, frozen=True, kw_only=True, tag="fill"):
    """One execution (a partial or full fill)."""

    v: int = SCHEMA_VERSION
    exec_id: str
    order_link_id: str
    order_id: str
    symbol: str
    side: str
    price: str
    qty: str
    fee: str
    is_maker: bool
    exchange_ts_ns: int
    ts_ns: int


class PositionEvent(Message, frozen=True, kw_only=True, tag="position"):
    """A position after a change; size "0" means flat."""

    v: int = SCHEMA_VERSION
    symbol: str
    side: str  # "Buy" | "Sell" | "" when flat
    size: str
    entry_price: str = ""
    take_profit: str = ""
    stop_loss: str = ""
    unrealised_pnl: str = "0"
    realised_pnl: str = "0"
    ts_ns: int


# The tagged messages of this family, for the registry (common.schemas.registry).
MESSAGES: tuple[type[Message], ...] = (OrderIntent, OrderEvent, FillEvent, PositionEvent)
