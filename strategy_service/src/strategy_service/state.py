"""What the strategy engine keeps: each symbol's state, and bounded sets of the ids it has seen."""

from __future__ import annotations

from common.schemas import OrderIntent
from strategy_service.features import SymbolFeatures
from strategy_service.lots import Lot
from strategy_service.machine import Machine


class Recent:
    """A set that forgets its oldest members beyond `cap`, so a 24/7 process stays bounded; ids
    (intents, executions) only ever come back recently (a redelivery, a restart)."""

    __slots__ = ("cap", "items")

    def __init__(self, cap: int = 100_000) -> None:
        self.cap = cap
        self.items: dict[str, None] = {}

    def add(self, key: str) -> None:
        self.items[key] = None
        if len(self.items) > self.cap:
            del self.items[next(iter(self.items))]

    def __contains__(self, key: str) -> bool:
        return key in self.items


class Symbol:
    """Everything the engine keeps about one symbol."""

    __slots__ = ("name", "f", "m", "lot", "book_ms", "lag_ms", "book_stale", "pos", "avg", "trade_pnl",
                 "pos_size", "pos_side", "pos_ts", "last_intent", "exit_refusals")

    def __init__(self, name: str, f: SymbolFeatures) -> None:
        self.name, self.f, self.m = name, f, Machine()
        self.lot: Lot | None = None  # guessed from the first book, as live and replay both do
        self.book_ms = -1  # exchange time of the last book message
        self.lag_ms = 0  # how late the last book message arrived
        self.book_stale = False
        self.pos = 0.0  # signed size from our fills
        self.avg = 0.0
        self.trade_pnl = 0.0  # net PnL of the round trip in progress, fees included
        self.pos_size = 0.0  # the exchange's size and side from position events
        self.pos_side = ""
        self.pos_ts = 0
        self.last_intent: OrderIntent | None = None
        self.exit_refusals = 0  # our exits refused in a row (reset when the position changes)
