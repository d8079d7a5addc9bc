"""An order book side pair: price -> size dicts plus sorted price lists (bisect), for cheap deltas and
O(1) best prices. Books hold a few hundred levels, where list insertion beats a tree."""

from __future__ import annotations

from common.bybit.enums import Side
from bisect import bisect_left, insort
from collections.abc import Iterator
from decimal import Decimal
from itertools import islice

from exchange_sim.engine.events import Level


class Book:
    """One symbol's public book: price -> size for each side, plus the last message's u/seq/ts."""

    __slots__ = ("bids", "asks", "_bid_prices", "_ask_prices", "u", "seq", "ts_ms")

    def __init__(self) -> None:
        self.bids: dict[Decimal, Decimal] = {}
        self.asks: dict[Decimal, Decimal] = {}
        self._bid_prices: list[Decimal] = []  # ascending; the best bid is the last
        self._ask_prices: list[Decimal] = []  # ascending; the best ask is the first
        self.u = 0
        self.seq = 0
        self.ts_ms = 0

    def replace(self, bids: list[Level], asks: list[Level]) -> None:
        """Apply a snapshot."""
        self.bids = {p: s for p, s in dict(bids).items() if s}  # the last entry for a price wins
        self.asks = {p: s for p, s in dict(asks).items() if s}
        self._bid_prices = sorted(self.bids)
        self._ask_prices = sorted(self.asks)

    def patch(self, bids: list[Level], asks: list[Level]) -> None:
        """Apply a delta: size 0 deletes the level, anything else sets it."""
        sides = ((self.bids, self._bid_prices, bids), (self.asks, self._ask_prices, asks))
        for side, prices, levels in sides:
            for price, size in levels:
                if size:
                    if price not in side:
                        insort(prices, price)
                    side[price] = size
                elif side.pop(price, None) is not None:
                    del prices[bisect_left(prices, price)]

    def best_bid(self) -> Level | None:
        return (p := self._bid_prices[-1], self.bids[p]) if self._bid_prices else None

    def best_ask(self) -> Level | None:
        return (p := self._ask_prices[0], self.asks[p]) if self._ask_prices else None

    def bid_levels(self) -> Iterator[Level]:
        """Bids, best first."""
        return ((p, self.bids[p]) for p in reversed(self._bid_prices))

    def ask_levels(self) -> Iterator[Level]:
        """Asks, best first."""
        return ((p, self.asks[p]) for p in self._ask_prices)

    def top(self, depth: int) -> tuple[list[Level], list[Level]]:
        """The best `depth` levels of each side, best first."""
        return list(islice(self.bid_levels(), depth)), list(islice(self.ask_levels(), depth))

    def size_at(self, *, side: str, price: Decimal) -> Decimal:
        """Size resting at `price` on the bid ("Buy") or ask ("Sell") side, 0 if no level."""
        levels = self.bids if side == Side.BUY else self.asks
        return levels.get(price, Decimal(0))
