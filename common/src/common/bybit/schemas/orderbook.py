"""Order book: GET /v5/market/orderbook and the `orderbook.{depth}.{symbol}` topic."""

from __future__ import annotations

import msgspec

Level = tuple[str, str]  # (price, size); size "0" in a delta deletes the level

DEPTHS = (1, 50, 200, 500)  # the linear depths Bybit streams


class OrderbookData(msgspec.Struct, kw_only=True):
    """One book message's content (WS `data`)."""

    s: str  # symbol
    b: list[Level]  # bids, best (highest) first
    a: list[Level]  # asks, best (lowest) first
    u: int  # update id: +1 per message; u == 1 is a fresh snapshot after an engine restart
    seq: int  # cross sequence: compares books across depths


class Orderbook(msgspec.Struct, kw_only=True):
    """The REST result: a snapshot of `limit` levels per side."""

    s: str
    b: list[Level]
    a: list[Level]
    ts: int  # when the system generated the data, ms
    u: int
    seq: int = 0
    cts: int = 0  # the matching engine's timestamp, ms

