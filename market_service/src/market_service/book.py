"""A local order book kept with Bybit's rules, fast enough for the hot path.

Rules (https://bybit-exchange.github.io/docs/v5/websocket/public/orderbook): a snapshot replaces the
book; in a delta a size of 0 deletes the level, any other size replaces it; `u` grows by exactly one
per message, and `u == 1` is a fresh snapshot after Bybit restarted its engine. Anything else (a jump
in `u`, a delta before any snapshot, a crossed book, a level whose price or size is unreadable or not
finite, a negative size) raises BookError: the book is then stale until the next snapshot.

Each side keeps its levels in a dict keyed by a float sort key (the price, negated for bids) next to
a sorted list of those keys, so a delta costs one dict write plus a bisect; prices and sizes keep
Bybit's strings for output and a float size for the features. Price strings are read through a
`Floats` cache (a book sees the same prices over and over) and a size of "0" needs no reading.
"""

from __future__ import annotations

import math
from bisect import bisect_left, insort

from common.bybit.enums import BookMsgType
from common.bybit.schemas.orderbook import Level, OrderbookData
from market_service.features import Top, ofi_step
from market_service.floats import Floats

SNAPSHOT = BookMsgType.SNAPSHOT
_INF = math.inf


class BookError(Exception):
    """The book can no longer be trusted (gap, crossed, bad level): resync it."""


class Side:
    """One side: levels by sort key, and the keys sorted best first."""

    __slots__ = ("sign", "keys", "levels", "floats")

    def __init__(self, sign: float, floats: Floats) -> None:
        self.sign = sign  # -1.0 for bids (highest price first), 1.0 for asks
        self.floats = floats  # price strings read before
        self.keys: list[float] = []
        self.levels: dict[float, tuple[str, str, float]] = {}  # key -> (price, size, size as float)

    def replace(self, levels: list[Level]) -> None:
        sign, new = self.sign, {}
        for price, size in levels:
            key, qty = _level(price, size, sign)
            if qty:
                new[key] = (price, size, qty)
            else:
                new.pop(key, None)
        self.levels = new
        self.keys = sorted(new)

    def merge(self, levels: list[Level]) -> None:
        sign, book, keys, floats = self.sign, self.levels, self.keys, self.floats
        for price, size in levels:  # the hot loop: the common cases inline, oddities in _level()
            try:
                key = floats[price] * sign
                qty = 0.0 if size == "0" else float(size)
            except ValueError:
                key, qty = _level(price, size, sign)  # raises
            if qty == 0.0:
                if key in book:
                    del book[key]
                    del keys[bisect_left(keys, key)]
            elif 0.0 < qty < _INF and -_INF < key < _INF:
                if key not in book:
                    insort(keys, key)
                book[key] = (price, size, qty)
            else:
                _level(price, size, sign)  # negative or not finite: raises

    def trim(self, depth: int) -> None:
        """Keep the best `depth` levels: a depth-limited topic's window, should a delete never come."""
        keys = self.keys
        if len(keys) > depth:
            for key in keys[depth:]:
                del self.levels[key]
            del keys[depth:]

    def top(self, n: int) -> list[tuple[str, str, float]]:
        levels = self.levels
        return [levels[k] for k in self.keys[:n]]


def _level(price: str, size: str, sign: float) -> tuple[float, float]:
    """A level's sort key and size, or BookError: what the book cannot order or sum is refused."""
    try:
        key, qty = float(price) * sign, float(size)
    except ValueError:
        raise BookError(f"unreadable level [{price!r}, {size!r}]") from None
    if not math.isfinite(key):
        raise BookError(f"invalid price {price!r}")
    if qty < 0 or not math.isfinite(qty):
        raise BookError(f"invalid size {size!r} at price {price!r}")
    return key, qty


class Book:
    """One symbol's book. `u` is the last applied update id (0: no snapshot yet or lost)."""

    __slots__ = ("symbol", "depth", "bids", "asks", "u", "seq", "ts_ms", "stale", "updates", "ofi", "_top")

    def __init__(self, symbol: str, *, depth: int | None = None, floats: Floats | None = None) -> None:
        self.symbol = symbol
        self.depth = depth  # the topic's depth: levels beyond it are dropped (None: keep all)
        floats = Floats() if floats is None else floats  # the symbol's price strings, read once each
        self.bids, self.asks = Side(-1.0, floats), Side(1.0, floats)
        self.u = 0
        self.seq = 0
        self.ts_ms = 0  # the exchange time of the last applied message
        self.stale = "no snapshot yet"  # why the book is not trustworthy; "" when it is
        self.updates = 0  # messages applied
        self.ofi = 0.0  # order-flow imbalance accumulated since the last take_ofi()
        self._top: Top | None = None

    def apply(self, kind: str, data: OrderbookData, ts_ms: int) -> None:
        """Apply one snapshot or delta; raises BookError (and marks the book stale) when it cannot."""
        u, bids, asks = data.u, self.bids, self.asks
        try:
            if kind == SNAPSHOT or u == 1:
                bids.replace(data.b)
                asks.replace(data.a)
                self._top = None  # no order flow across a snapshot: the levels between are unknown
            elif self.u == 0:
                raise BookError(f"delta u={u} without a snapshot")
            elif u != self.u + 1:
                raise BookError(f"gap: delta u={u} after u={self.u}")
            else:
                if data.b:
                    bids.merge(data.b)
                if data.a:
                    asks.merge(data.a)
            bk, ak, depth = bids.keys, asks.keys, self.depth
            if depth is not None:
                if len(bk) > depth:
                    bids.trim(depth)
                if len(ak) > depth:
                    asks.trim(depth)
            if bk and ak:
                b0, a0 = bk[0], ak[0]
                top: Top | None = (-b0, bids.levels[b0][2], a0, asks.levels[a0][2])
                if -b0 >= a0:
                    raise BookError(f"crossed: bid {-b0} >= ask {a0}")
            else:
                top = None
        except BookError as e:
            self.invalidate(str(e))
            raise BookError(f"{self.symbol}: {e}") from None
        prev = self._top
        if top is not None and prev is not None and top != prev:  # an unchanged top adds no flow
            self.ofi += ofi_step(prev, top)
        self._top = top
        self.u, self.seq, self.ts_ms = u, data.seq, ts_ms
        self.stale = ""
        self.updates += 1

    def invalidate(self, reason: str) -> None:
        """Distrust the book until the next snapshot (the first reason given is the one kept)."""
        self.u = 0
        self.stale = self.stale or reason
        self._top = None

    def top(self) -> Top | None:
        bk, ak = self.bids.keys, self.asks.keys
        if not bk or not ak:
            return None
        return -bk[0], self.bids.levels[bk[0]][2], ak[0], self.asks.levels[ak[0]][2]

    def take_ofi(self) -> float:
        """The order-flow imbalance since the previous call (coalesced publishes lose none of it)."""
        ofi, self.ofi = self.ofi, 0.0
        return ofi

    def levels(self, depth: int) -> tuple[list[Level], list[Level]]:
        """(bids, asks), best first, `depth` each, in Bybit's strings."""
        return ([(p, s) for p, s, _ in self.bids.top(depth)], [(p, s) for p, s, _ in self.asks.top(depth)])
