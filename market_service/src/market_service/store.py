"""Operator state in Redis: each symbol's current book and a one-line summary, for `scalperctl`.

Written by the service's monitor a few times a second for the symbols that changed, never per
message. Keys are in `common.constants` because the CLI reads them too.
"""

from __future__ import annotations

import json

import redis.asyncio as aioredis

from common import constants as c
from common.schemas import encode
from market_service.market import Market


def summary(market: Market, *, symbol: str, now_ns: int) -> dict:
    """What `scalperctl market` shows for one symbol."""
    st = market.symbols[symbol]
    top = st.book.top()
    row = {
        "symbol": symbol,
        "last_price": st.last_trade,
        "bid": None,
        "ask": None,
        "spread": None,
        "spread_bps": None,
        "latency_ms": round(st.latency_ms, 3),
        "stale": st.book.stale,
        "u": st.book.u,
        "exchange_ts_ns": st.exchange_ms * 1_000_000,
        "updated_ts_ns": now_ns,
    }
    if top is not None:
        bid, _, ask, _ = top
        row.update(bid=bid, ask=ask, spread=ask - bid, spread_bps=(ask - bid) / ((ask + bid) / 2) * 1e4)
    return row


async def write(market: Market, redis: aioredis.Redis, *, depth: int, now_ns: int) -> int:
    """Store the book (every level up to `depth`) and summary of each changed symbol; returns how many."""
    changed = [s for s in market.changed if s in market.symbols]
    market.changed = set()
    if not changed:
        return 0
    async with redis.pipeline(transaction=False) as pipe:
        for symbol in changed:
            book = market.book_top(symbol, now_ns, levels=depth, drain_ofi=False)
            pipe.set(c.market_book_key(symbol), encode(book))
            pipe.hset(c.MARKET_SUMMARY_KEY, symbol, json.dumps(summary(market, symbol=symbol, now_ns=now_ns)))
        await pipe.execute()
    return len(changed)


async def set_universe(redis: aioredis.Redis, *, symbols: list[str], removed: list[str]) -> None:
    """Publish the universe and forget the state of symbols that left it."""
    async with redis.pipeline(transaction=True) as pipe:
        pipe.delete(c.MARKET_SYMBOLS_KEY)
        if symbols:
            pipe.sadd(c.MARKET_SYMBOLS_KEY, *symbols)
        for symbol in removed:
            pipe.delete(c.market_book_key(symbol))
            pipe.hdel(c.MARKET_SUMMARY_KEY, symbol)
        await pipe.execute()
