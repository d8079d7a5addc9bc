"""orderLinkIds that always fit Bybit's 36 characters, whatever the symbol
(https://bybit-exchange.github.io/docs/v5/order/create-order: "orderLinkId ... A max of 36 characters").

An intent id is the orderLinkId of its order, and a fallback order adds a suffix (the post-only
fallback's "-t"), so an intent id leaves SUFFIX_ROOM characters free. A symbol too long to fit
(1000000BABYDOGEUSDT) loses its quote coin, then is cut and tagged with a hash of the whole name,
so two symbols never share an id.
"""

from __future__ import annotations

import zlib

from common.bybit.constants import MAX_ORDER_LINK_ID

SUFFIX_ROOM = 2  # the longest suffix an order of an intent adds to the intent id ("-t")
MAX_INTENT_ID = MAX_ORDER_LINK_ID - SUFFIX_ROOM
QUOTE = "USDT"


def intent_id(*, prefix: str, symbol: str, kind: str, ms: int) -> str:
    """`<prefix><symbol>-<kind>-<ms>`, the symbol shortened only as much as the length needs."""
    tail = f"-{kind}-{ms}"
    room = MAX_INTENT_ID - len(prefix) - len(tail)
    if room < 6:
        raise ValueError(f"prefix {prefix!r} and {tail!r} leave no room for a symbol in {MAX_INTENT_ID} "
                         "characters")
    return f"{prefix}{short_symbol(symbol, room)}{tail}"


def short_symbol(symbol: str, room: int) -> str:
    """`symbol` in at most `room` characters: whole, then without its quote coin, then cut with a hash."""
    if len(symbol) <= room:
        return symbol
    base = symbol.removesuffix(QUOTE)
    if len(base) <= room:
        return base
    tag = f"{zlib.crc32(symbol.encode()):08x}"[:4]
    return base[:room - len(tag)] + tag
