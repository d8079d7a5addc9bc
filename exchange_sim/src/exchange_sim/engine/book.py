"""A price-sorted order book side pair with O(log n) updates and O(1) best-price reads."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from itertools import islice

from sortedcontainers import SortedDict

from exchange_sim.engine.events import Level


class Book:
    """One symbol's public book: price -> size for each side, plus the last message's u/seq/ts."""

    __slots__ = ("bids", "asks", "u", "seq", "ts_ms")

    def __init__(self) -> None:
        self.bids: SortedDict = SortedDict()  # ascending; best bid is the last key
        self.asks: SortedDict = SortedDict()  # ascending; best ask is the first key
        self.u = 0
        self.seq = 0
        self.ts_ms = 0

    def replace(self, bids: list[Level], asks: list[Level]) -> None:
        """Apply a snapshot."""
        self.bids = SortedDict((p, s) for p, s in bids if s)
        self.asks = SortedDict((p, s) for p, s in asks if s)

    def patch(self, bids: list[Level], asks: list[Level]) -> None:
        """Apply a delta: size 0 deletes the level, anything else sets it."""
        for side, levels in ((self.bids, bids), (self.asks, asks)):
            for price, size in levels:
                if size:
                    side[price] = size
                else:
                    side.pop(price, None)

    def best_bid(self) -> Level | None:
        return self.bids.peekitem(-1) if self.bids else None

    def best_ask(self) -> Level | None:
        return self.asks.peekitem(0) if self.asks else None

    def bid_levels(self) -> Iterator[Level]:
        """Bids, best first."""
        return ((p, self.bids[p]) for p in reversed(self.bids))

    def ask_levels(self) -> Iterator[Level]:
        """Asks, best first."""
        return iter(self.asks.items())

    def top(self, depth: int) -> tuple[list[Level], list[Level]]:
        """The best `depth` levels of each side, best first."""
        return list(islice(self.bid_levels(), depth)), list(islice(self.ask_levels(), depth))

    def size_at(self, *, side: str, price: Decimal) -> Decimal:
        """Size resting at `price` on the bid ("Buy") or ask ("Sell") side, 0 if no level."""
        levels = self.bids if side == "Buy" else self.asks
        return levels.get(price, Decimal(0))
