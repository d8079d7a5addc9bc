"""A local order book rebuilt from `orderbook.{depth}.{symbol}` messages, with gap detection."""

from __future__ import annotations

from decimal import Decimal

from common.bybit.enums import BookMsgType
from common.bybit.schemas.orderbook import Level, OrderbookData, apply_levels


class BookGap(Exception):
    """A delta whose `u` does not follow the last one: the book is unreliable until a new snapshot."""


class LocalBook:
    """Price -> size maps per side; `u` is the last update id applied (0 before the first snapshot)."""

    def __init__(self, symbol: str) -> None:
        self.symbol = symbol
        self.bids: dict[str, str] = {}
        self.asks: dict[str, str] = {}
        self.u = 0
        self.seq = 0

    def apply(self, *, kind: str, data: OrderbookData) -> None:
        """Apply a snapshot (replaces) or a delta (merges); raises BookGap on a missed delta."""
        if kind == BookMsgType.SNAPSHOT or data.u == 1:  # u == 1: Bybit restarted, this is a snapshot
            self.bids, self.asks = {}, {}
        elif self.u == 0 or data.u != self.u + 1:
            last, self.u = self.u, 0
            raise BookGap(f"{self.symbol}: delta u={data.u} after u={last}")
        apply_levels(self.bids, data.b)
        apply_levels(self.asks, data.a)
        self.u, self.seq = data.u, data.seq

    def levels(self, depth: int) -> tuple[list[Level], list[Level]]:
        """(bids best first, asks best first), `depth` levels each."""
        bids = sorted(self.bids.items(), key=lambda kv: Decimal(kv[0]), reverse=True)[:depth]
        asks = sorted(self.asks.items(), key=lambda kv: Decimal(kv[0]))[:depth]
        return bids, asks
