"""What the strategy reads of the execution service's own view in Redis: its trading state, its newest
recovery plan, and the positions on the exchange that the strategy's orders built.

Execution is the strategy's window on the exchange: while it is not NORMAL no entry is armed, and
after each reconciliation (and whenever an exit is refused because the position is flat) the strategy
takes execution's positions as its own, so its ledger converges to the exchange's. Positions that
manual or foreign orders built are not the strategy's and are left out.
"""

from __future__ import annotations

import json

import msgspec
import redis.asyncio as aioredis

from common import constants as c
from common.bybit.schemas.position import Position

_position = msgspec.json.Decoder(Position)
NORMAL = "NORMAL"  # execution's state when entries go out (its failover's State.NORMAL)


class Held(msgspec.Struct, frozen=True):
    """One position of the strategy's on the exchange."""

    side: str  # "Buy" | "Sell"
    size: float
    avg: float  # entry price


async def hold_reason(r: aioredis.Redis) -> str:
    """Why execution sends no entry now ("" when NORMAL, or when it has never published a state)."""
    raw = await r.get(c.EXEC_STATE_KEY)
    if raw is None:
        return ""
    view = json.loads(raw)
    state = view.get("state", "")
    return "" if state == NORMAL else f"execution {state}: {view.get('reason', '')}".rstrip(": ")


async def newest_plan(r: aioredis.Redis) -> tuple[str, str]:
    """The newest recovery plan's (id, outcome); ("", "") when none ran."""
    raw = await r.lindex(c.EXEC_RECOVERY_KEY, 0)
    if raw is None:
        return "", ""
    plan = json.loads(raw)
    return plan.get("plan_id", ""), plan.get("outcome", "")


async def built_by(r: aioredis.Redis, *, symbol: str, prefix: str) -> bool:
    """Whether orders with `prefix` have fills in the position on `symbol` (execution's ownership record)."""
    raw = await r.hget(c.EXEC_OWNERSHIP_KEY, symbol)
    return raw is not None and any(link.startswith(prefix) for link in json.loads(raw))


async def strategy_positions(r: aioredis.Redis, *, prefix: str) -> dict[str, Held]:
    """symbol -> the position on the exchange, for positions that orders with `prefix` built."""
    owners = {k.decode(): json.loads(v) for k, v in (await r.hgetall(c.EXEC_OWNERSHIP_KEY)).items()}
    out = {}
    for raw in await r.hvals(c.EXEC_POSITIONS_KEY):
        p = _position.decode(raw)
        if float(p.size or 0) > 0 and any(link.startswith(prefix) for link in owners.get(p.symbol, {})):
            out[p.symbol] = Held(side=p.side, size=float(p.size), avg=float(p.avgPrice or p.entryPrice or 0))
    return out
