"""scalperctl orders | positions | order | recovery: the execution service's view, and manual orders.

Views are read from the Redis keys the execution service keeps (Bybit's field names); a manual order
is an OrderIntent on `exec.intents`, the same path the strategy and the dashboard use.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

import redis
import redis.asyncio as aioredis

from common import config
from common import constants as c
from common.manual_order import ManualOrderError, manual_intent, send_manual_order

COMMANDS = ("orders", "positions", "order", "recovery")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    subparsers.add_parser("orders", help="open orders as the execution service sees them (JSON)")
    subparsers.add_parser("positions", help="positions with their TP and SL (JSON)")
    o = subparsers.add_parser("order", help="send a manual order intent (market, or --limit P)")
    o.add_argument("side", choices=["buy", "sell"])
    o.add_argument("symbol")
    o.add_argument("qty")
    o.add_argument("--limit", help="limit price (default: market)")
    o.add_argument("--tp", help="take-profit price")
    o.add_argument("--sl", help="stop-loss price")
    o.add_argument("--reduce-only", action="store_true")
    r = subparsers.add_parser("recovery", help="the execution service's recovery plans, newest first (JSON)")
    r.add_argument("--last", type=int, default=5, help="how many plans")


def run(args: argparse.Namespace, settings: config.Settings) -> int:
    try:
        return asyncio.run(_run(args, settings))
    except (OSError, redis.RedisError) as e:
        print(f"scalperctl {args.cmd}: Redis unreachable: {e}", file=sys.stderr)
        return 1
    except ManualOrderError as e:
        print(f"scalperctl order: {e}", file=sys.stderr)
        return 2


async def _run(args: argparse.Namespace, settings: config.Settings) -> int:
    r = aioredis.from_url(settings.redis_url.get_secret_value(), socket_connect_timeout=3)
    try:
        if args.cmd == "orders":
            out = {"orders": await _values(r, c.EXEC_ORDERS_KEY), "state": await _state(r)}
        elif args.cmd == "positions":
            out = {"positions": await _values(r, c.EXEC_POSITIONS_KEY), "state": await _state(r)}
        elif args.cmd == "recovery":
            out = {"state": await _state(r),
                   "plans": [json.loads(p) for p in await r.lrange(c.EXEC_RECOVERY_KEY, 0, args.last - 1)]}
        else:
            out = await _order(r, args)
    finally:
        await r.aclose()
    print(json.dumps(out, indent=2))
    return 0


async def _values(r: aioredis.Redis, key: str) -> list[dict]:
    return sorted((json.loads(v) for v in (await r.hgetall(key)).values()),
                  key=lambda d: (d.get("symbol", ""), d.get("createdTime", "")))


async def _state(r: aioredis.Redis) -> dict | None:
    raw = await r.get(c.EXEC_STATE_KEY)
    return json.loads(raw) if raw else None


async def _order(r: aioredis.Redis, args: argparse.Namespace) -> dict:
    intent = manual_intent(side=args.side, symbol=args.symbol, qty=args.qty, limit=args.limit, tp=args.tp,
                           sl=args.sl, reduce_only=args.reduce_only)
    return await send_manual_order(r, intent)
