"""Market events: the content of one public orderbook message, one public trade and one ticker."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

Level = tuple[Decimal, Decimal]  # (price, size); size 0 deletes the level in a delta


@dataclass(slots=True)
class BookUpdate:
    """One `orderbook.{depth}.{symbol}` message: a snapshot replaces the book, a delta patches it."""

    symbol: str
    kind: Literal["snapshot", "delta"]
    bids: list[Level]
    asks: list[Level]
    u: int  # update id, +1 per message; u=1 means a fresh snapshot after a service restart
    seq: int  # cross sequence: grows, with gaps, across all of the symbol's book messages
    ts_ms: int  # system time the message was produced
    cts_ms: int  # matching-engine time of the underlying change


@dataclass(slots=True)
class TradeTick:
    """One element of a `publicTrade.{symbol}` message; `side` is the taker's."""

    symbol: str
    trade_id: str
    side: Literal["Buy", "Sell"]
    price: Decimal
    size: Decimal
    ts_ms: int
    tick_direction: str  # PlusTick, ZeroPlusTick, MinusTick, ZeroMinusTick
    block_trade: bool = False


@dataclass(slots=True)
class TickerUpdate:
    """What a recorded `tickers.{symbol}` message says about mark, index and funding; None = not in it
    (a delta carries only the fields that changed)."""

    symbol: str
    mark_price: Decimal | None
    index_price: Decimal | None
    funding_rate: Decimal | None
    next_funding_ms: int | None
    ts_ms: int


MarketEvent = BookUpdate | TradeTick | TickerUpdate
