"""market.trades and market.book.

SCHEMA_VERSION changelog:
  1: first version.
"""

from __future__ import annotations

import msgspec

from common.schemas.base import Message

SCHEMA_VERSION = 1


class Trade(Message, frozen=True, kw_only=True, tag="trade"):
    """One public trade. Prices and sizes stay strings, as Bybit sends them."""

    v: int = SCHEMA_VERSION
    symbol: str
    trade_id: str
    side: str  # "Buy" | "Sell": the taker's side
    price: str
    size: str
    exchange_ts_ns: int
    received_ts_ns: int
    published_ts_ns: int = 0


class Microstructure(msgspec.Struct, frozen=True, kw_only=True):
    """Features computed from the book and recent trades at publish time."""

    spread: float = 0.0
    spread_bps: float = 0.0
    mid: float = 0.0
    microprice: float = 0.0
    imbalance: float = 0.0  # (bid - ask) / (bid + ask) size over the top N levels
    ofi: float = 0.0  # order-flow imbalance since the previous book message
    buy_volume: float = 0.0
    sell_volume: float = 0.0
    cvd: float = 0.0
    realized_vol: float = 0.0
    vwap: float = 0.0


class BookTop(Message, frozen=True, kw_only=True, tag="book"):
    """The top N levels of a symbol's local book with its microstructure."""

    v: int = SCHEMA_VERSION
    symbol: str
    u: int  # Bybit's update id of the last applied delta
    seq: int = 0  # Bybit's cross sequence
    bids: list[tuple[str, str]]  # best first: (price, size)
    asks: list[tuple[str, str]]
    stale: bool = False  # the book is not trustworthy (gap, crossed, silent feed)
    micro: Microstructure = Microstructure()
    exchange_ts_ns: int
    received_ts_ns: int
    published_ts_ns: int = 0


# The tagged messages of this family, for the registry (common.schemas.registry).
MESSAGES: tuple[type[Message], ...] = (Trade, BookTop)
