"""Realised P&L since 00:00 UTC, from what execution publishes on exec.events.

A PositionEvent's `realised_pnl` is Bybit's cumRealisedPnl: closed P&L minus every fee, cumulative per
symbol. Today's P&L of a symbol is its last value today minus its last value before midnight; a symbol
with no event before midnight still in the stream counts from 0 (and says so). Today's fills give the
fees and the fill count.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

import redis.asyncio as aioredis
from common.schemas import DecodeError, FillEvent, PositionEvent, decode

from common import constants as c
from dashboard.platform_state import exec_events

BATCH = 1000
BASELINE_SCAN = 20_000  # entries read back from midnight at most, looking for each symbol's baseline


def _day_start_ms(now: datetime) -> int:
    return int(now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0).timestamp() * 1000)


def _event(fields: dict):
    try:
        return decode(fields[c.PAYLOAD_FIELD])
    except (KeyError, DecodeError):
        return None


def _dec(text: str) -> Decimal:
    try:
        return Decimal(text or "0")
    except InvalidOperation:
        return Decimal(0)


async def today(redis: aioredis.Redis, *, now: datetime | None = None) -> dict:
    """{"since_ns", "realised_pnl", "fees", "fills", "symbols": {...}} or {"no_data": reason}."""
    day_ms = _day_start_ms(now or datetime.now(UTC))
    last: dict[str, Decimal] = {}
    fees, fills = Decimal(0), 0
    async for ev in exec_events(redis, since_ms=day_ms):
        if isinstance(ev, PositionEvent):
            last[ev.symbol] = _dec(ev.realised_pnl)
        elif isinstance(ev, FillEvent):
            fees, fills = fees + _dec(ev.fee), fills + 1
    if not last and not fills:
        return {"since_ns": day_ms * 1_000_000, "no_data": "no fill or position event since 00:00 UTC"}
    base = await _baselines(redis, day_ms=day_ms, symbols=set(last))
    symbols = {
        s: {"realised_pnl": str(v - base.get(s, 0)),
            "baseline": "before 00:00" if s in base else "none: from 0"}
        for s, v in sorted(last.items())
    }
    total = sum((v - base.get(s, 0) for s, v in last.items()), Decimal(0))
    return {"since_ns": day_ms * 1_000_000, "realised_pnl": str(total), "fees": str(fees), "fills": fills,
            "symbols": symbols}


async def _baselines(redis: aioredis.Redis, *, day_ms: int, symbols: set[str]) -> dict[str, Decimal]:
    """Each symbol's last cumulative realised P&L before midnight (newest first, bounded scan)."""
    found: dict[str, Decimal] = {}
    end, read = f"({day_ms}-0", 0
    while symbols - found.keys() and read < BASELINE_SCAN:
        batch = await redis.xrevrange(c.EXEC_EVENTS, max=end, min="-", count=BATCH)
        for _entry_id, fields in batch:
            ev = _event(fields)
            if isinstance(ev, PositionEvent) and ev.symbol in symbols:
                found.setdefault(ev.symbol, _dec(ev.realised_pnl))
        if len(batch) < BATCH:
            break
        read, end = read + len(batch), b"(" + batch[-1][0]
    return found
