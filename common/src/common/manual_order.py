"""Manual orders, as scalperctl and the dashboard send them: one OrderIntent on exec.intents, the path
the strategy's intents take, so the execution service treats them alike (filters, SAFE, TP/SL)."""

from __future__ import annotations

import re
import uuid
from decimal import Decimal, InvalidOperation

import redis.asyncio as aioredis

from common import constants as c
from common.bybit.enums import OrderType, Side
from common.schemas import OrderIntent, encode, now_ns

MANUAL_PREFIX = "m-"  # orderLinkIds of manual orders start with it
INTENTS_MAXLEN = 100_000
SIDES = {"buy": Side.BUY, "sell": Side.SELL}
SYMBOL = re.compile(r"^[A-Z0-9]{2,30}$")
MAX_EXPONENT = 18  # quantities and prices between 1e-18 and 1e18: "1e999999999" is no order


class ManualOrderError(ValueError):
    """Bad input for a manual order; the message names the field."""


def positive(name: str, text: str) -> str:
    """`text` as a plain positive decimal ("1e-2" -> "0.01"), or ManualOrderError naming `name`."""
    try:
        value = Decimal(text.strip())
        ok = value.is_finite() and value > 0 and -MAX_EXPONENT <= value.adjusted() <= MAX_EXPONENT
    except InvalidOperation:
        ok = False
    if not ok:
        raise ManualOrderError(f"{name}: {text!r} is not a positive number")
    return format(value, "f")


def manual_intent(
    *,
    side: str,
    symbol: str,
    qty: str,
    limit: str | None = None,
    tp: str | None = None,
    sl: str | None = None,
    reduce_only: bool = False,
) -> OrderIntent:
    """A market order, or a limit order at `limit`, with optional take-profit and stop-loss prices."""
    if side.lower() not in SIDES:
        raise ManualOrderError(f"side: {side!r} is not buy or sell")
    symbol = symbol.strip().upper()
    if not SYMBOL.match(symbol):
        raise ManualOrderError(f"symbol: {symbol!r} is not a symbol like BTCUSDT")
    price = positive("limit", limit) if limit is not None else None
    return OrderIntent(
        intent_id=f"{MANUAL_PREFIX}{uuid.uuid4().hex[:24]}",
        symbol=symbol,
        side=SIDES[side.lower()],
        qty=positive("qty", qty),
        order_type=OrderType.LIMIT if price else OrderType.MARKET,
        price=price,
        reduce_only=reduce_only,
        take_profit=positive("tp", tp) if tp is not None else None,
        stop_loss=positive("sl", sl) if sl is not None else None,
        reference_price=price,
        source="manual",
        created_ts_ns=now_ns(),
    )


async def send_manual_order(redis: aioredis.Redis, intent: OrderIntent) -> dict[str, str]:
    """Publish `intent` unless the market service's universe (when it has published one) lacks its symbol."""
    universe = {s.decode() for s in await redis.smembers(c.MARKET_SYMBOLS_KEY)}
    if universe and intent.symbol not in universe:
        raise ManualOrderError(f"symbol: {intent.symbol} is not traded here ({', '.join(sorted(universe))})")
    entry = await redis.xadd(
        c.EXEC_INTENTS, {c.PAYLOAD_FIELD: encode(intent)}, maxlen=INTENTS_MAXLEN, approximate=True
    )
    return {"intent_id": intent.intent_id, "orderLinkId": intent.intent_id, "entry_id": entry.decode()}
