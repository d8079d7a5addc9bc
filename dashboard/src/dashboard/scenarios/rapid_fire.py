"""Production scenario 6 (DESIGN.md section 9): rapid-fire manual orders with TP/SL, then flat again.

The run first claims two symbols: the strategy's new entries on them are paused for the run (a
PAUSE_ENTRIES control command with a lease, so a run cut short does not pause them for good; its exits and
protection go on), and the run waits until the strategy acknowledged it in its heartbeat and the symbols are
flat with no open order, so the platform's own trading never mixes into what the run counts. The last step
lifts the pause (so does the runner's cleanup when a step failed).

ORDERS market intents go out back to back on the manual-order path (common.manual_order, the one the
dashboard's and scalperctl's orders take), alternating a long on one claimed symbol and a short on the other,
each with a TP and an SL PROTECT_PCT around the price the market service last saw. Execution's view in
Redis (its intent records, exec.events, its positions and open orders, as JSON/msgpack, never its code)
must then show every intent filled by exactly one order and every open position under a TP and an SL.
Reduce-only intents close what the run opened, so repeated runs do not pile up exposure.

Each function is a scenario step's check: (ctx) -> (holds, detail), polled until it holds; StepFailed
fails the step at once. Facts for later steps are kept in ctx.facts.
"""

from __future__ import annotations

import json
import statistics
import time
from collections import Counter
from decimal import ROUND_CEILING, Decimal

from common.bybit import filters
from common.bybit.enums import Side
from common.bybit.http import BybitHttp
from common.bybit.rest import BybitRest
from common.bybit.urls import urls
from common.control import send_control
from common.manual_order import SIDES, manual_intent, send_manual_order
from common.schemas import Command, OrderEvent, OrderIntent

from common import constants as c
from dashboard import platform_state
from dashboard.scenarios.steps import Context, StepFailed

ORDERS = 10
PROTECT_PCT = Decimal(2)  # TP and SL this far from the price: a few seconds' moves do not reach them
NOTIONAL_MARGIN = Decimal("1.2")  # an order's value this far above the instrument's minimum
CLAIM_LEASE_S = 300  # the strategy's entries on the claimed symbols resume by themselves after this
CLAIMED_BY = "scenario rapid-fire"


async def claim(ctx: Context) -> tuple[bool, str]:
    """Pause the strategy's entries on two symbols (flat ones first) for the run; holds once the strategy's
    heartbeat shows the pause and execution holds no position and no open order on them."""
    redis = ctx.rt.bus.redis
    if "claimed" not in ctx.facts:
        universe = sorted(s.decode() for s in await redis.smembers(c.MARKET_SYMBOLS_KEY))
        held = {k.decode() for k in await redis.hkeys(c.EXEC_POSITIONS_KEY)}
        chosen = sorted(universe, key=lambda s: (s in held, s))[:2]
        if len(chosen) < 2:
            return False, f"need two symbols; the market service trades {universe}"
        await _pause(ctx, chosen, for_s=CLAIM_LEASE_S)
        ctx.facts["claimed"] = chosen
    claimed = ctx.facts["claimed"]
    paused = ctx.service("strategy")["details"].get("entries_paused", "")
    held = {k.decode() for k in await redis.hkeys(c.EXEC_POSITIONS_KEY)} & set(claimed)
    orders = {json.loads(v).get("symbol") for v in await redis.hvals(c.EXEC_ORDERS_KEY)} & set(claimed)
    detail = (f"the strategy's entries on {', '.join(claimed)} paused for the run (lapses in "
              f"{CLAIM_LEASE_S} s); strategy pauses {paused or 'not shown yet'}; positions on them: {sorted(held) or 'none'}, "
              f"open orders on them: {sorted(orders) or 'none'}")
    return set(claimed) <= set(paused.split(",")) and not held and not orders, detail


async def release(ctx: Context) -> tuple[bool, str]:
    """Lift the pause of the claimed symbols; holds once the strategy's heartbeat no longer shows them."""
    claimed = ctx.facts.get("claimed", [])
    if not ctx.facts.get("released"):
        await _pause(ctx, claimed, for_s=0)
        ctx.facts["released"] = True
    paused = ctx.service("strategy")["details"].get("entries_paused", "")
    still = sorted(set(claimed) & set(paused.split(",")))
    return not still, (f"still paused: {', '.join(still)}" if still else
                       f"the strategy's entries on {', '.join(claimed)} resumed")


async def cleanup(ctx: Context) -> str:
    """After a failed run: lift the pause the run set, if it set one."""
    if not ctx.facts.get("claimed") or ctx.facts.get("released"):
        return ""
    await _pause(ctx, ctx.facts["claimed"], for_s=0)
    return f"the strategy's entries on {', '.join(ctx.facts['claimed'])} resumed"


async def _pause(ctx: Context, symbols: list[str], *, for_s: int) -> None:
    await send_control(ctx.rt.bus.redis, command=Command.PAUSE_ENTRIES, target="strategy",
                       issued_by="dashboard", args={"symbols": ",".join(symbols), "for_s": str(for_s), "why": CLAIMED_BY})


async def send(ctx: Context) -> tuple[bool, str]:
    """ORDERS intents, a long on the first claimed symbol and a short on the second, one after the other."""
    redis = ctx.rt.bus.redis
    flat = ctx.facts["claimed"]
    prices = {s: await _price(redis, s) for s in flat}
    if missing := [s for s, p in prices.items() if p is None]:
        return False, f"no fresh price from the market service for {', '.join(missing)}"
    plans = [(flat[0], "buy"), (flat[1], "sell")]
    sizes = {s: await _qty(ctx, s, prices[s]) for s in flat}
    intents = []
    for i in range(ORDERS):
        symbol, side = plans[i % 2]
        tp, sl = _protection(side, prices[symbol])
        intents.append(manual_intent(side=side, symbol=symbol, qty=str(sizes[symbol]), tp=tp, sl=sl))
    # exec.events' entry ids count in Redis's clock: the run's events come after its newest entry (the
    # dashboard's Redis user may not run TIME)
    newest = await redis.xrevrange(c.EXEC_EVENTS, count=1)
    ctx.facts["since_ms"] = int(newest[0][0].split(b"-")[0]) if newest else 0
    start = time.perf_counter()
    for intent in intents:
        await send_manual_order(redis, intent)
    took_ms = (time.perf_counter() - start) * 1000
    counts = Counter(i.symbol for i in intents)
    ctx.facts["opens"] = intents
    ctx.figures["intents_sent"] = len(intents)
    ctx.facts["opened"] = {s: (SIDES[side], sizes[s] * counts[s]) for s, side in plans}
    per = ", ".join(f"{counts[s]} {side} {sizes[s]} {s} at ~{prices[s]}" for s, side in plans)
    return True, (f"{len(intents)} intents sent in {took_ms:.1f} ms: {per}; TP/SL {PROTECT_PCT}% "
                  f"either side")


async def filled(ctx: Context) -> tuple[bool, str]:
    """Every intent filled (a rejection is RED, with its reason), one order each, none left open;
    the intent-to-ack time (created by us to acknowledged by the exchange) of each."""
    opens: list[OrderIntent] = ctx.facts["opens"]
    records, waiting = await _settled(ctx, opens, counted="intents")
    if waiting:
        return False, waiting
    orders = await _orders(ctx, opens)
    if doubled := {i: ids for i, (ids, _) in orders.items() if len(ids) > 1}:
        raise StepFailed(f"intents with more than one order: {doubled}")
    if short := [f"{i.intent_id} {orders[i.intent_id][1]} of {i.qty}" for i in opens
                 if orders[i.intent_id][1] != Decimal(i.qty)]:
        return False, f"order events do not show these filled in full (yet): {', '.join(short)}"
    open_left = [k.decode() for k in await ctx.rt.bus.redis.hkeys(c.EXEC_ORDERS_KEY)
                 if any(k.decode().startswith(i.intent_id) for i in opens)]
    if open_left:
        raise StepFailed(f"orders still open after their fill: {', '.join(open_left)}")
    ms = [(records[i.intent_id]["ack_ts_ns"] - i.created_ts_ns) / 1e6 for i in opens]
    ctx.figures.update(ack_p50_ms=round(statistics.median(ms), 1), ack_max_ms=round(max(ms), 1))
    return True, (f"{len(opens)}/{len(opens)} filled, {len(opens)} orders for {len(opens)} intents (none "
                  f"doubled, none left open); intent→ack p50 {statistics.median(ms):.1f} ms, "
                  f"max {max(ms):.1f} ms")


async def protected(ctx: Context) -> tuple[bool, str]:
    """Every open position has a TP and an SL; the run's symbols hold exactly what it opened."""
    positions = await _positions(ctx)
    for symbol, (side, size) in ctx.facts["opened"].items():
        got = positions.get(symbol)
        if got is None or got["side"] != side or Decimal(got["size"]) != size:
            held = f"{got['side']} {got['size']}" if got else "nothing"
            return False, f"{symbol}: {side} {size} expected, execution holds {held}"
    bare = [s for s, p in positions.items() if not _protected(p)]
    listing = "; ".join(f"{s} {p['side']} {p['size']} TP {p['takeProfit']} SL {p['stopLoss']}"
                        for s, p in positions.items())
    if bare:
        return False, f"without a TP or an SL: {', '.join(bare)} ({listing})"
    return True, f"{len(positions)} open positions, all with TP and SL: {listing}"


async def close(ctx: Context) -> tuple[bool, str]:
    """A reduce-only market intent against each position the run opened, for exactly what it opened."""
    closes = []
    for symbol, (side, size) in ctx.facts["opened"].items():
        closes.append(manual_intent(side="sell" if side == Side.BUY else "buy", symbol=symbol, qty=str(size),
                                    reduce_only=True))
    for intent in closes:
        await send_manual_order(ctx.rt.bus.redis, intent)
    ctx.facts["closes"] = closes
    ctx.figures["closes_sent"] = len(closes)
    return True, f"{len(closes)} reduce-only intents sent: " + ", ".join(
        f"{i.side} {i.qty} {i.symbol}" for i in closes)


async def closed(ctx: Context) -> tuple[bool, str]:
    """The closes filled in full and execution holds nothing on the run's symbols any more."""
    closes: list[OrderIntent] = ctx.facts["closes"]
    _, waiting = await _settled(ctx, closes, counted="closes")
    if waiting:
        return False, waiting
    orders = await _orders(ctx, closes)
    if short := [f"{i.symbol} {orders[i.intent_id][1]} of {i.qty}" for i in closes
                 if orders[i.intent_id][1] != Decimal(i.qty)]:
        return False, f"order events do not show the closes filled in full (yet): {', '.join(short)}"
    positions = await _positions(ctx)
    if left := [f"{i.symbol} {positions[i.symbol]['side']} {positions[i.symbol]['size']}"
                for i in closes if i.symbol in positions]:
        return False, f"positions still open: {', '.join(left)}"
    return True, f"{len(closes)}/{len(closes)} closes filled in full; " + ", ".join(
        f"{i.symbol} flat" for i in closes)


async def _price(redis, symbol: str) -> Decimal | None:
    """The market service's last trade price (or mid) of `symbol`; None while it has none it trusts."""
    raw = await redis.hget(c.MARKET_SUMMARY_KEY, symbol)
    row = json.loads(raw) if raw else {}
    if not row or row.get("stale"):
        return None
    if row.get("last_price"):
        return Decimal(str(row["last_price"]))
    if row.get("bid") and row.get("ask"):
        return (Decimal(str(row["bid"])) + Decimal(str(row["ask"]))) / 2
    return None


async def _qty(ctx: Context, symbol: str, price: Decimal) -> Decimal:
    """The smallest quantity the exchange takes for `symbol`, with a margin over its minimum value."""
    http = BybitHttp(base_url=urls(ctx.rt.settings).rest, timeout_s=5.0, time_sync=False)
    try:
        [info] = await BybitRest(http).instruments(symbol=symbol)
    finally:
        await http.aclose()
    lot = info.lotSizeFilter
    step = Decimal(lot.qtyStep)
    by_value = filters.to_step(Decimal(lot.minNotionalValue or 0) * NOTIONAL_MARGIN / price, step,
                               ROUND_CEILING)
    return max(Decimal(lot.minOrderQty), by_value)


def _protection(side: str, price: Decimal) -> tuple[str, str]:
    """(TP, SL) PROTECT_PCT either side of `price`: above for a long's TP, below for its SL."""
    up, down = str(price * (1 + PROTECT_PCT / 100)), str(price * (1 - PROTECT_PCT / 100))
    return (up, down) if side == "buy" else (down, up)


def _protected(position: dict) -> bool:
    """The position has both a TP and an SL."""
    return Decimal(position.get("takeProfit") or 0) > 0 and Decimal(position.get("stopLoss") or 0) > 0


async def _positions(ctx: Context) -> dict[str, dict]:
    """Execution's open positions by symbol."""
    raw = await ctx.rt.bus.redis.hgetall(c.EXEC_POSITIONS_KEY)
    return {k.decode(): json.loads(v) for k, v in sorted(raw.items())}


async def _settled(ctx: Context, intents: list[OrderIntent], *, counted: str) -> tuple[dict[str, dict], str]:
    """Execution's records of `intents` once all are filled and acknowledged, or what is still awaited
    ("" when nothing is); StepFailed when one ended otherwise than filled. Figures `{counted}_filled`,
    `{counted}_refused` and `{counted}_unfilled` (neither so far: lost if the step times out like that)."""
    raws = await ctx.rt.bus.redis.hmget(c.EXEC_INTENTS_KEY, [i.intent_id for i in intents])
    records = {i.intent_id: json.loads(r) for i, r in zip(intents, raws, strict=True) if r}
    done = [r for r in records.values() if r["status"] == c.IntentStatus.FILLED and r.get("ack_ts_ns")]
    bad = [f"{k} {r['status']}: {r['reason']}" for k, r in records.items()
           if r["status"] in c.FINAL_INTENT_STATUSES and r["status"] != c.IntentStatus.FILLED]
    ctx.figures.update({f"{counted}_filled": len(done), f"{counted}_refused": len(bad),
                        f"{counted}_unfilled": len(intents) - len(done) - len(bad)})
    if bad:
        raise StepFailed(f"{len(bad)} of {len(intents)} not filled: {'; '.join(bad)}")
    if len(done) == len(intents):
        return records, ""
    statuses = Counter(r["status"] for r in records.values())
    return records, (f"{len(done)} of {len(intents)} filled and acknowledged; execution's records: "
                     f"{dict(statuses) or 'none yet'}")


async def _orders(ctx: Context, intents: list[OrderIntent]) -> dict[str, tuple[set[str], Decimal]]:
    """Per intent, the exchange orders its updates on exec.events name since the run sent its first
    intent, and how much they filled (an orderLinkId is the intent id, or it plus a suffix for a
    follow-up order)."""
    filled: dict[str, dict[str, Decimal]] = {i.intent_id: {} for i in intents}
    async for ev in platform_state.exec_events(ctx.rt.bus.redis, since_ms=ctx.facts["since_ms"]):
        if isinstance(ev, OrderEvent) and ev.order_id:
            owner = next((k for k in filled if ev.order_link_id.startswith(k)), None)
            if owner is not None:
                filled[owner][ev.order_id] = Decimal(ev.filled_qty or 0)  # the latest update wins
    return {k: (set(qty), sum(qty.values(), Decimal(0))) for k, qty in filled.items()}
