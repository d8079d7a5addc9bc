"""Realised P&L since 00:00 UTC (today) or since Monday 00:00 UTC (this week), from what execution
publishes on exec.events, and the overview's P&L figures (realised, unrealised, total) for people.

A PositionEvent's `realised_pnl` is Bybit's cumRealisedPnl: closed P&L minus every fee, cumulative per
symbol. A period's P&L of a symbol is its last value in the period minus its last value before the
period's start; a symbol with no event before the start still in the stream counts from 0 (and says so).
The period's fills give the fees and the fill count.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation

import redis.asyncio as aioredis
from common.schemas import DecodeError, FillEvent, PositionEvent, decode

from common import constants as c
from dashboard import formatting as fmt
from dashboard.platform_state import exec_events

BATCH = 1000
BASELINE_SCAN = 20_000  # entries read back from midnight at most, looking for each symbol's baseline


def _day_start(now: datetime) -> datetime:
    return now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def day_start_ms(now: datetime) -> int:
    """00:00 UTC of `now`'s day, in ms since the epoch."""
    return int(_day_start(now).timestamp() * 1000)


def week_start_ms(now: datetime) -> int:
    """Monday 00:00 UTC of `now`'s ISO week, in ms since the epoch."""
    day = _day_start(now)
    return int((day - timedelta(days=day.weekday())).timestamp() * 1000)


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
    return await since(redis, start_ms=day_start_ms(now or datetime.now(UTC)), start="00:00 UTC")


async def week(redis: aioredis.Redis, *, now: datetime | None = None) -> dict:
    """`today`'s figures since Monday 00:00 UTC."""
    return await since(redis, start_ms=week_start_ms(now or datetime.now(UTC)), start="Monday 00:00 UTC")


async def since(redis: aioredis.Redis, *, start_ms: int, start: str) -> dict:
    """Realised P&L from `start_ms` on; `start` says when that is (in the no-data reason)."""
    last: dict[str, Decimal] = {}
    fees, fills = Decimal(0), 0
    async for ev in exec_events(redis, since_ms=start_ms):
        if isinstance(ev, PositionEvent):
            last[ev.symbol] = _dec(ev.realised_pnl)
        elif isinstance(ev, FillEvent):
            fees, fills = fees + _dec(ev.fee), fills + 1
    if not last and not fills:
        return {"since_ns": start_ms * 1_000_000, "no_data": f"no fill or position event since {start}"}
    base = await _baselines(redis, start_ms=start_ms, symbols=set(last))
    symbols = {
        s: {"realised_pnl": str(v - base.get(s, 0)),
            "baseline": f"before {start}" if s in base else "none: from 0"}
        for s, v in sorted(last.items())
    }
    total = sum((v - base.get(s, 0) for s, v in last.items()), Decimal(0))
    return {"since_ns": start_ms * 1_000_000, "realised_pnl": str(total), "fees": str(fees), "fills": fills,
            "symbols": symbols}


def figures(period: dict, positions: list[dict]) -> dict[str, str]:
    """A period's realised P&L (net of fees), the open positions' unrealised P&L and their sum, formatted
    (`period` from `today` or `week`, `positions` from account_view.positions)."""
    unrealised = sum((fmt.dec(p["unrealised_pnl"]) or 0 for p in positions), fmt.dec(0))
    realised = fmt.dec(period.get("realised_pnl"))
    return {"realised": fmt.usdt(realised) if realised is not None else "",
            "unrealised": fmt.usdt(unrealised), "total": fmt.usdt((realised or 0) + unrealised),
            "fees": fmt.usdt(-(fmt.dec(period.get("fees")) or 0)),
            "no_data": period.get("no_data", "")}


async def _baselines(redis: aioredis.Redis, *, start_ms: int, symbols: set[str]) -> dict[str, Decimal]:
    """Each symbol's last cumulative realised P&L before `start_ms` (newest first, bounded scan)."""
    found: dict[str, Decimal] = {}
    end, read = f"({start_ms}-0", 0
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
