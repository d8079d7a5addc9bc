"""`scalperctl book SYMBOL` and `scalperctl market`: the market service's state, read from Redis."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError

from common import config
from common import constants as c
from common.schemas import BookTop, decode, now_ns

COMMANDS = ("book", "market")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    bk = subparsers.add_parser("book", help="a symbol's current local order book as JSON")
    bk.add_argument("symbol")
    bk.add_argument("--depth", type=int, default=50, help="levels per side (default 50)")
    mk = subparsers.add_parser("market", help="per symbol: last price, spread, feed latency, staleness")
    mk.add_argument("--json", action="store_true")


def run(args: argparse.Namespace, settings: config.Settings) -> int:
    try:
        return asyncio.run(
            book(settings, args.symbol.upper(), args.depth)
            if args.cmd == "book"
            else market(settings, args.json)
        )
    except (RedisConnectionError, OSError) as e:
        print(f"redis unreachable: {e}", file=sys.stderr)
        return 2


async def book(settings: config.Settings, symbol: str, depth: int) -> int:
    """Print {"symbol", "bids", "asks", "u", "stale"}; exit 1 when the service holds no book for it."""
    r = aioredis.from_url(settings.redis_url.get_secret_value(), socket_connect_timeout=3)
    try:
        raw = await r.get(c.market_book_key(symbol))
    finally:
        await r.aclose()
    msg = decode(raw) if raw else None
    if not isinstance(msg, BookTop):
        print(f"no book for {symbol} (is it in the market service's universe?)", file=sys.stderr)
        return 1
    print(
        json.dumps(
            {
                "symbol": msg.symbol,
                "bids": [list(lv) for lv in msg.bids[:depth]],
                "asks": [list(lv) for lv in msg.asks[:depth]],
                "u": msg.u,
                "stale": msg.stale,
            }
        )
    )
    return 0


async def market(settings: config.Settings, as_json: bool) -> int:
    """One row per symbol of the universe; exit 1 when any book is stale or there is none."""
    r = aioredis.from_url(settings.redis_url.get_secret_value(), socket_connect_timeout=3)
    try:
        symbols = sorted(s.decode() for s in await r.smembers(c.MARKET_SYMBOLS_KEY))
        raws = await r.hmget(c.MARKET_SUMMARY_KEY, symbols) if symbols else []
    finally:
        await r.aclose()
    now, rows = now_ns(), []
    for symbol, raw in zip(symbols, raws, strict=True):
        row = json.loads(raw) if raw else {"symbol": symbol, "stale": "no state yet", "updated_ts_ns": 0}
        row["age_s"] = round((now - row["updated_ts_ns"]) / 1e9, 3) if row["updated_ts_ns"] else None
        rows.append(row)
    if as_json:
        print(json.dumps({"symbols": rows}, indent=2))
    else:
        print(f"{'symbol':<14}{'last':>14}{'spread':>12}{'bps':>8}{'lat ms':>9}{'age s':>8}  stale")
        for row in rows:
            print(
                f"{row['symbol']:<14}{row.get('last_price') or '-':>14} {_num(row.get('spread'), 6):>11}"
                f" {_num(row.get('spread_bps'), 2):>7} {_num(row.get('latency_ms'), 1):>8}"
                f" {_num(row['age_s'], 1):>7}  {row['stale'] or '-'}"
            )
    return 0 if rows and not any(row["stale"] for row in rows) else 1


def _num(x: float | None, digits: int) -> str:
    return "-" if x is None else f"{x:.{digits}f}"
