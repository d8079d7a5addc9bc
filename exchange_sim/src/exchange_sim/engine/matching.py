"""Matching our orders against an exogenous market: taker walks of the book, and maker fills of resting
orders when the market trades through them or the book crosses them, in price-time priority.

Our fills do not take liquidity out of the market's book (the market path is exogenous), but one
taker walk never fills more than the levels show, and a resting order at a price the market already
quoted waits behind the size that was there first (`queue_ahead`).
"""

from __future__ import annotations

from common.bybit.enums import Side
from dataclasses import dataclass
from decimal import Decimal

from exchange_sim.engine.book import Book
from exchange_sim.engine.events import Level, TradeTick
from exchange_sim.engine.records import ZERO, Order

MARKET_SLIPPAGE = Decimal("0.03")  # a Market order walks at most 3% past the best opposite price


def walk(*, book: Book, side: str, qty: Decimal, limit: Decimal | None) -> list[Level]:
    """Fills (price, qty) a taker `side` order of `qty` gets from the book, up to price `limit`.

    `limit` None means a Market order: its limit is the best opposite price moved by MARKET_SLIPPAGE.
    """
    levels = book.ask_levels() if side == Side.BUY else book.bid_levels()
    fills: list[Level] = []
    left = qty
    for price, size in levels:
        if limit is None:
            limit = price * (1 + MARKET_SLIPPAGE) if side == Side.BUY else price * (1 - MARKET_SLIPPAGE)
        if (side == Side.BUY and price > limit) or (side == Side.SELL and price < limit):
            break
        take = min(left, size)
        fills.append((price, take))
        left -= take
        if not left:
            break
    return fills


def crosses(*, book: Book, side: str, price: Decimal) -> bool:
    """Would a limit order at `price` take liquidity right now?"""
    best = book.best_ask() if side == Side.BUY else book.best_bid()
    return best is not None and (price >= best[0] if side == Side.BUY else price <= best[0])


@dataclass(slots=True)
class Resting:
    """A resting limit order and the market size queued ahead of it at its price."""

    order: Order
    queue_ahead: Decimal
    seq: int  # arrival order, for time priority among our own orders


class RestingOrders:
    """One symbol's resting orders, kept in price-time priority per side."""

    __slots__ = ("buys", "sells")

    def __init__(self) -> None:
        self.buys: list[Resting] = []  # best (highest) price first, then oldest
        self.sells: list[Resting] = []  # best (lowest) price first, then oldest

    def __len__(self) -> int:
        return len(self.buys) + len(self.sells)

    def add(self, *, order: Order, book: Book, seq: int) -> None:
        entry = Resting(order, book.size_at(side=order.side, price=order.price), seq)
        queue = self.buys if order.side == Side.BUY else self.sells
        queue.append(entry)
        if order.side == Side.BUY:
            queue.sort(key=lambda r: (-r.order.price, r.seq))
        else:
            queue.sort(key=lambda r: (r.order.price, r.seq))

    def remove(self, order: Order) -> None:
        queue = self.buys if order.side == Side.BUY else self.sells
        queue[:] = [r for r in queue if r.order is not order]

    def orders(self) -> list[Order]:
        return [r.order for r in self.buys] + [r.order for r in self.sells]

    def on_trade(self, trade: TradeTick) -> list[tuple[Order, Decimal]]:
        """Maker fills (order, qty) this public trade gives our orders; each fills at its own price."""
        buys, sells = self.buys, self.sells
        if buys and trade.price <= buys[0].order.price:
            return _through(buys, trade, same_side_aggressor=Side.SELL)
        if sells and trade.price >= sells[0].order.price:
            return _through(sells, trade, same_side_aggressor=Side.BUY)
        return []

    def on_book(self, book: Book) -> list[tuple[Order, Decimal]]:
        """Shrink queues to what the book still shows, and fill orders the book now crosses."""
        fills: list[tuple[Order, Decimal]] = []
        for queue, side in ((self.buys, Side.BUY), (self.sells, Side.SELL)):
            for r in queue:
                shown = book.size_at(side=r.order.side, price=r.order.price)
                r.queue_ahead = min(r.queue_ahead, shown)
            if queue and crosses(book=book, side=side, price=queue[0].order.price):
                fills += _crossed(queue, book, side)
        return fills


def _through(queue: list[Resting], trade: TradeTick, same_side_aggressor: str) -> list[tuple[Order, Decimal]]:
    """Hand the trade's size to orders it traded through (better price first), then to orders at its price
    once the queue ahead of them is used up."""
    left = trade.size
    fills = []
    for r in queue:
        if not left:
            break
        price = r.order.price
        if price == trade.price:
            if trade.side != same_side_aggressor:
                break
            used = min(left, r.queue_ahead)
            r.queue_ahead -= used
            left -= used
        elif (price < trade.price) if same_side_aggressor == Side.SELL else (price > trade.price):
            break
        take = min(left, r.order.leaves_qty)
        if take:
            fills.append((r.order, take))
            left -= take
    return fills


def _crossed(queue: list[Resting], book: Book, side: str) -> list[tuple[Order, Decimal]]:
    """Fill orders the book crosses, each from the size shown at or better than its own price."""
    best = queue[0].order.price
    shown: list[Level] = []
    for price, size in book.ask_levels() if side == Side.BUY else book.bid_levels():
        if (price > best) if side == Side.BUY else (price < best):
            break
        shown.append((price, size))
    fills = []
    taken = ZERO
    for r in queue:
        limit = r.order.price
        reach = sum((s for p, s in shown if (p <= limit if side == Side.BUY else p >= limit)), ZERO)
        take = min(r.order.leaves_qty, reach - taken)
        if take <= 0:
            break
        fills.append((r.order, take))
        taken += take
    return fills
