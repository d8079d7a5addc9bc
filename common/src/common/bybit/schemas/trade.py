"""Public trades: GET /v5/market/recent-trade and the `publicTrade.{symbol}` topic."""

from __future__ import annotations

import msgspec

from common.schemas.market import Trade

MS = 1_000_000  # ns per ms


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

    def to_trade(self, *, received_ts_ns: int, published_ts_ns: int = 0) -> Trade:
        """The `market.trades` message of this trade."""
        return Trade(symbol=self.s, trade_id=self.i, side=self.S, price=self.p, size=self.v,
                     exchange_ts_ns=self.T * MS, received_ts_ns=received_ts_ns, published_ts_ns=published_ts_ns)


class RecentTrade(msgspec.Struct, kw_only=True):
    """One row of GET /v5/market/recent-trade."""

    execId: str
    symbol: str
    price: str
    size: str
    side: str
    time: str  # ms, as a string (REST renders every number as text)
    isBlockTrade: bool = False
