"""The account as an operator checks it: the wallet's equity against execution's daily-loss limit, the
open positions with their distance to take-profit and stop-loss, and the last backup.

Read from what the other services keep in Redis (execution's daily-loss state and positions, the worker's
backup runs); each figure comes raw (exact strings) and formatted for people (`display`).
"""

from __future__ import annotations

import json
from decimal import Decimal

import redis.asyncio as aioredis
from common.bybit.enums import Side

from common import constants as c
from dashboard import formatting as fmt
from dashboard import platform_state, worker_state

MS_TO_NS = 1_000_000


def _stop(value: str) -> Decimal | None:
    """A TP or SL price; Bybit writes "0" (or nothing) for none."""
    d = fmt.dec(value)
    return d if d else None


def distance_pct(*, side: str, mark: Decimal | None, target: Decimal | None, kind: str) -> Decimal | None:
    """How far the mark price still has to move, in % of it, before `kind` ("tp" or "sl") triggers;
    negative when it is already past it. None without a mark or a target."""
    if not mark or target is None:
        return None
    towards = (target - mark) if side == Side.BUY else (mark - target)
    return (towards if kind == "tp" else -towards) / mark * 100


def position_row(p: dict) -> dict:
    """One of execution's positions (Bybit's fields) as the pages show it."""
    side, entry = p.get("side", ""), p.get("avgPrice") or p.get("entryPrice") or ""
    mark, tp, sl = fmt.dec(p.get("markPrice")), _stop(p.get("takeProfit", "")), _stop(p.get("stopLoss", ""))
    tick = fmt.step_of(entry, p.get("markPrice"), p.get("takeProfit"), p.get("stopLoss"))
    tp_pct = distance_pct(side=side, mark=mark, target=tp, kind="tp")
    sl_pct = distance_pct(side=side, mark=mark, target=sl, kind="sl")
    updated_ns = int(fmt.dec(p.get("updatedTime")) or 0) * MS_TO_NS
    return {
        "symbol": p.get("symbol", ""), "side": side, "size": p.get("size", ""), "entry_price": entry,
        "mark_price": p.get("markPrice", ""), "unrealised_pnl": p.get("unrealisedPnl", ""),
        "take_profit": str(tp or ""), "stop_loss": str(sl or ""), "protected": sl is not None,
        "tp_distance_pct": None if tp_pct is None else float(tp_pct),
        "sl_distance_pct": None if sl_pct is None else float(sl_pct), "updated_ns": updated_ns,
        "display": {
            "size": fmt.size(p.get("size"), lot=fmt.step_of(p.get("size"))),
            "entry_price": fmt.price(entry, tick=tick),
            "mark_price": fmt.price(mark, tick=tick), "unrealised_pnl": fmt.usdt(p.get("unrealisedPnl")),
            "take_profit": fmt.price(tp, tick=tick) or "none",
            "stop_loss": fmt.price(sl, tick=tick) or "NONE",
            "tp_distance": fmt.pct(tp_pct), "sl_distance": fmt.pct(sl_pct),
            "value": fmt.usdt(p.get("positionValue")).lstrip("+"), "leverage": f"{p.get('leverage', '')}x",
            "liq_price": fmt.price(p.get("liqPrice"), tick=tick), "updated": fmt.utc(updated_ns),
        },
        "raw": p,
    }


def order_row(o: dict) -> dict:
    """One of execution's open orders (Bybit's fields) as the positions page shows it."""
    tick = fmt.step_of(o.get("price"), o.get("triggerPrice"), o.get("takeProfit"), o.get("stopLoss"))
    created_ns = int(fmt.dec(o.get("createdTime")) or 0) * MS_TO_NS
    limit = fmt.dec(o.get("price"))
    return {
        "key": o.get("orderLinkId") or o.get("orderId", ""), "symbol": o.get("symbol", ""),
        "side": o.get("side", ""),
        "created_ns": created_ns, "raw": o,
        "display": {
            "type": " ".join(filter(None, (o.get(k) for k in ("stopOrderType", "orderType", "timeInForce")))),
            "qty": fmt.size(o.get("qty"), lot=fmt.step_of(o.get("qty"), o.get("cumExecQty"))),
            "filled": fmt.size(o.get("cumExecQty"), lot=fmt.step_of(o.get("qty"), o.get("cumExecQty"))),
            "price": fmt.price(limit, tick=tick) if limit else "market",
            "trigger": fmt.price(o.get("triggerPrice"), tick=tick) if fmt.dec(o.get("triggerPrice")) else "",
            "take_profit": fmt.price(_stop(o.get("takeProfit", "")), tick=tick),
            "stop_loss": fmt.price(_stop(o.get("stopLoss", "")), tick=tick),
            "status": o.get("orderStatus", "") + (" reduce-only" if o.get("reduceOnly") else ""),
            "created": fmt.utc(created_ns),
        },
    }


async def orders(redis: aioredis.Redis) -> list[dict]:
    """Execution's open orders, by orderLinkId."""
    return [order_row(o) for o in (await platform_state.json_hash(redis, c.EXEC_ORDERS_KEY)).values()]


async def positions(redis: aioredis.Redis) -> list[dict]:
    """Execution's open positions (flat ones left out), by symbol."""
    held = await platform_state.json_hash(redis, c.EXEC_POSITIONS_KEY)
    return [position_row(p) for p in held.values() if fmt.dec(p.get("size"))]


async def equity(redis: aioredis.Redis, *, limit_pct: float) -> dict:
    """The wallet's equity today against EXEC_DAILY_LOSS_LIMIT_PCT, and the kill switch; or why none."""
    try:
        st = json.loads(await redis.get(c.EXEC_DAILY_LOSS_KEY) or b"null")
    except ValueError:
        st = None
    if not isinstance(st, dict) or not st.get("ts_ms"):
        return {"no_data": "execution has not read the wallet yet", "limit_pct": limit_pct, "display": {}}
    start, now = Decimal(repr(st.get("day_start", 0.0))), Decimal(repr(st.get("equity", 0.0)))
    drawdown = max(Decimal(0), (start - now) / start * 100) if start > 0 else Decimal(0)
    used = min(Decimal(100), drawdown / Decimal(repr(limit_pct)) * 100)
    return {
        "equity": str(now), "day_start": str(start), "change": str(now - start),
        "drawdown_pct": float(drawdown),
        "limit_pct": limit_pct, "limit_used_pct": float(used), "killed": st.get("killed", ""),
        "ts_ns": int(st["ts_ms"]) * MS_TO_NS,
        "display": {
            "equity": fmt.usdt(now).lstrip("+") + " USDT", "day_start": fmt.usdt(start).lstrip("+") + " USDT",
            "change": fmt.usdt(now - start), "drawdown": fmt.pct(drawdown), "limit": fmt.pct(limit_pct),
            "limit_used": fmt.pct(used), "read_at": fmt.utc(int(st["ts_ms"]) * MS_TO_NS),
        },
    }


async def last_backup(redis: aioredis.Redis) -> dict:
    """The backup job's last run with its outcome, or why there is none."""
    job = next(j for j in await worker_state.jobs(redis) if j["name"] == c.JOB_BACKUP)
    if not job["history"]:
        why = "no backup has run yet" if job["registered"] else "no worker has registered backups"
        return {"no_data": why, "display": {}}
    run = job["history"][0]
    end = run.get("end_ts")
    return {
        "outcome": run.get("outcome", ""), "start_ts": run.get("start_ts"), "end_ts": end,
        "error": run.get("error", ""), "bytes": run.get("bytes", 0),
        "display": {"when": fmt.utc((end or run.get("start_ts") or 0) * fmt.NS_PER_S),
                    "took": fmt.duration(end - run["start_ts"]) if end else "running"},
    }
