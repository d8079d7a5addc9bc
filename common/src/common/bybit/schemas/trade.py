"""Public trades: GET /v5/market/recent-trade and the `publicTrade.{symbol}` topic."""

from __future__ import annotations

import msgspec


class PublicTrade(msgspec.Struct, kw_only=True):
    """One trade in a `publicTrade` frame."""

    T: int  # trade time, ms
    s: str  # symbol
    S: str  # taker side: Buy | Sell
    v: str  # size
    p: str  # price
    L: str  # tick direction: PlusTick | ZeroPlusTick | MinusTick | ZeroMinusTick
    i: str  # trade id
    BT: bool = False  # block trade


class RecentTrade(msgspec.Struct, kw_only=True):
    """One row of GET /v5/market/recent-trade."""

    execId: str
    symbol: str
    price: str
    size: str
    side: str
    time: str  # ms, as a string (REST renders every number as text)
    isBlockTrade: bool = False
