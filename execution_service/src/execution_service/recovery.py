"""The recovery plan: a recorded sequence of steps that brings the exchange and our view back in line.

freeze entries -> reconnect private WS -> fetch open orders, positions and executions -> diff with
local state -> cancel ghost orders -> leave foreign orders alone (alert) -> TP/SL on every position
-> adopt or flatten zombie positions -> pick up fills made while down -> exit SAFE.
Every step's start, end, outcome and detail is stored in Redis (EXEC_RECOVERY_KEY) as it happens.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable

import msgspec

from common.bybit.constants import ORDER_NOT_FOUND
from common.bybit.enums import OrderType, Side
from common import constants as c
from common.constants import UNSENT_INTENT_STATUSES, IntentStatus
from common.bybit import filters
from common.bybit.errors import BybitError
from common.bybit.rest import LINEAR, BybitRest
from common.bybit.schemas.order import CancelOrderParams, Order, PlaceOrderParams
from common.bybit.schemas.position import Position
from common.bybit.ws import BybitWs
from common.config import Settings, ZombiePolicy
from common.schemas import Severity, now_ns
from execution_service.account import Account, protected
from execution_service.failover import Failover
from execution_service.fills import Batch, Fills
from execution_service.protection import Protector, close_link
from execution_service.router import Router
from execution_service.settlement import Settlement
from execution_service.store import IntentRecord, Store, intent_id_of

log = logging.getLogger(__name__)
PLANS_KEPT = 50
WS_WAIT_S = 10.0
SNAPSHOT_TRIES = 3
SETTLE_AFTER_S = 5.0  # an intent not open and not settled this long after it was sent: ask history
INTENTS_KEPT_S = 86_400.0  # finished intents are forgotten after a day (their orders stay on Bybit)


class Step(msgspec.Struct, kw_only=True):
    name: str
    start_ns: int
    end_ns: int = 0
    outcome: str = "running"  # running | ok | failed
    detail: str = ""


class Plan(msgspec.Struct, kw_only=True):
    plan_id: str
    trigger: str
    start_ns: int
    end_ns: int = 0
    outcome: str = "running"
    steps: list[Step] = []


class StepFailed(Exception):
    pass


class Snapshot(msgspec.Struct, kw_only=True):
    orders: list[Order]
    positions: list[Position]
    executions: Batch
    clean: bool = True  # no private message came in while it was taken


class Recovery:
    """Runs the recovery plan (for the failover loop) and the periodic resync (NORMAL and SAFE)."""

    def __init__(self, *, settings: Settings, rest: BybitRest, ws: BybitWs, store: Store, account: Account,
                 failover: Failover, router: Router, protector: Protector) -> None:
        self.settings, self.rest, self.ws, self.store, self.account = settings, rest, ws, store, account
        self.failover, self.router, self.protector = failover, router, protector
        self.fills = Fills(rest=rest, store=store, account=account)
        self.settlement = Settlement(rest=rest, store=store, account=account, router=router)
        self.prefixes = account.prefixes
        self.plan: Plan | None = None

    def ours(self, link: str) -> bool:
        return self.account.ours(link)

    async def run(self, trigger: str) -> bool:
        """One run of the plan; True when every step succeeded (the caller then leaves SAFE)."""
        fo = self.failover
        self.plan = Plan(plan_id=uuid.uuid4().hex[:12], trigger=trigger, start_ns=now_ns())
        await self.store.r.lpush(c.EXEC_RECOVERY_KEY, msgspec.json.encode(self.plan))
        await self.store.r.ltrim(c.EXEC_RECOVERY_KEY, 0, PLANS_KEPT - 1)
        try:
            await self._step("freeze entries", self._freeze)
            await self._step("reconnect private WS", self._reconnect)
            snap = await self._step("fetch orders, positions, executions", self._fetch)
            ghosts, foreign = await self._step("diff with local state", lambda: self._diff(snap))
            await self._step("cancel ghost orders", lambda: self._cancel(ghosts))
            await self._step("leave foreign orders", lambda: self._foreign(foreign))
            await self._step("TP/SL on every position", lambda: self._protect(snap.positions))
            await self._step("zombie positions", lambda: self._zombies(snap.positions))
            await self._step("pick up fills made while down", lambda: self._fills(snap.executions))
            await self._step("exit SAFE", self._exit)
        except StepFailed as e:
            self.plan.outcome, self.plan.end_ns = "failed", now_ns()
            await self._save()
            await fo.alert(c.EXEC_RECOVERY_ALERT, f"recovery failed at: {e}", trigger, severity=Severity.WARN)
            return False
        self.plan.outcome, self.plan.end_ns = "ok", now_ns()
        await self._save()
        await fo.alert(c.EXEC_RECOVERY_ALERT, "recovered: trading again", f"after {trigger}",
                       severity=Severity.INFO)
        return True

    async def _step(self, name: str, fn: Callable[[], Awaitable[tuple[object, str]]]):
        """Run and record one step; each step returns (its result, a detail for people)."""
        step = Step(name=name, start_ns=now_ns())
        self.plan.steps.append(step)
        await self._save()
        try:
            result, step.detail = await fn()
        except Exception as e:
            step.outcome, step.end_ns, step.detail = "failed", now_ns(), f"{type(e).__name__}: {e}"
            log.warning("recovery_step_failed", extra={"ctx": {"step": name, "error": step.detail}})
            raise StepFailed(f"{name}: {step.detail}") from e
        step.outcome, step.end_ns = "ok", now_ns()
        await self._save()
        return result

    async def _save(self) -> None:
        await self.store.r.lset(c.EXEC_RECOVERY_KEY, 0, msgspec.json.encode(self.plan))

    # --- the steps ---
    async def _freeze(self):
        return None, "entries frozen"

    async def _reconnect(self):
        async with asyncio.timeout(WS_WAIT_S):
            await self.ws.connected.wait()
        return None, f"private stream up (connection #{self.ws.connects})"

    async def snapshot(self) -> tuple[Snapshot, bool]:
        """Orders, positions and recent executions over REST; clean when no private message came
        in between (else a newer stream update could be overwritten by the older snapshot)."""
        for _ in range(SNAPSHOT_TRIES):
            seq = self.account.seq
            snap = Snapshot(orders=await self.rest.open_orders(), positions=await self.rest.positions(),
                            executions=await self.fills.fetch())
            if self.account.seq == seq:
                return snap, True
        snap.clean = False
        return snap, False

    async def _fetch(self):
        await self.account.load_instruments()
        await self.account.refresh_wallet()  # the day's equity for the daily loss, before any entry
        snap, _ = await self.snapshot()
        # one-way mode only: a hedge-mode account fails this step, so execution stays SAFE and says why
        await self.rest.check_one_way(probe=next(iter(self.account.instruments)), held=snap.positions)
        held = [p for p in snap.positions if float(p.size or 0) > 0]
        return snap, (f"{len(snap.orders)} open orders, {len(held)} positions, "
                      f"{len(snap.executions.executions)} executions since the watermark")

    async def _diff(self, snap: Snapshot):
        """Ghosts: ours by prefix but unknown or finished locally. The exchange becomes our view."""
        intents = await self.store.intents()
        known_before = await self.store.orders()
        ghosts, adopted = self.ghosts(snap.orders, intents), 0
        foreign = [o for o in snap.orders if not self.ours(o.orderLinkId)]
        for o in snap.orders:
            rec = intents.get(intent_id_of(o.orderLinkId)) if self.ours(o.orderLinkId) else None
            if rec is not None and rec.status in UNSENT_INTENT_STATUSES:
                await self.store.mark_acked(rec.intent_id, o.orderId)
                adopted += 1
        if snap.clean:
            await self.store.replace(orders=snap.orders, positions=snap.positions)
        else:  # the stream moved on while it was taken: never let the older snapshot win
            await self.store.merge(orders=snap.orders, positions=snap.positions)
        await self.settlement.settle_unfinished(snap.orders, older_than_s=0)
        detail = (f"{len(ghosts)} ghost, {len(foreign)} foreign, {adopted} in flight adopted, "
                  f"{len(known_before)} known before")
        return (ghosts, foreign), detail

    def ghosts(self, orders: list[Order], intents: dict[str, IntentRecord]) -> list[Order]:
        """Open orders of ours (by prefix) whose intent is unknown or finished here."""
        recs = [intents.get(intent_id_of(o.orderLinkId)) for o in orders]
        return [o for o, rec in zip(orders, recs) if self.ours(o.orderLinkId) and (
            rec is None or rec.status in (IntentStatus.REJECTED, IntentStatus.CANCELLED))]

    async def _cancel(self, ghosts: list[Order]):
        for o in ghosts:
            try:
                await self.rest.cancel_order(CancelOrderParams(category=LINEAR, symbol=o.symbol,
                                                               orderLinkId=o.orderLinkId))
            except BybitError as e:
                if e.code != ORDER_NOT_FOUND:  # already gone
                    raise
            await self.store.r.hdel(c.EXEC_ORDERS_KEY, o.orderLinkId)
        return None, ", ".join(o.orderLinkId for o in ghosts) or "none"

    async def _foreign(self, foreign: list[Order]):
        if foreign:
            ids = ", ".join(o.orderLinkId or o.orderId for o in foreign)
            await self.failover.alert(c.EXEC_FOREIGN_ALERT, f"{len(foreign)} foreign orders left alone", ids,
                                        severity=Severity.WARN)
        return None, f"{len(foreign)} left alone"

    async def _protect(self, positions: list[Position]):
        naked = [p.symbol for p in positions if float(p.size or 0) > 0 and not protected(p)]
        still = await self.protector.check(positions)  # each on its own, alerted, retried with backoff
        if still:
            raise RuntimeError(f"still without TP/SL: {', '.join(still)}")
        return None, ", ".join(naked) + " protected" if naked else "all protected"

    async def _zombies(self, positions: list[Position]):
        """A position none of our orders built (by the persisted record of the fills of our orders, not by
        intents, which are pruned after a day): adopt it, or flatten it, by policy."""
        owned = await self.store.owners()
        traded = {r.symbol for r in (await self.store.intents()).values() if r.status != IntentStatus.REJECTED}
        zombies = [p for p in positions if float(p.size or 0) > 0 and not owned.get(p.symbol)
                   and p.symbol not in traded]
        if not zombies:
            return None, "none"
        flatten = self.settings.exec_zombie_policy is ZombiePolicy.FLATTEN
        for p in zombies:
            # a close larger than maxMktOrderQty goes out as several market orders
            for qty in filters.market_chunks(await self.account.instrument(p.symbol), p.size) if flatten else ():
                link = close_link(self.prefixes[-1])
                await self.rest.place_order(PlaceOrderParams(
                    category=LINEAR, symbol=p.symbol, side=Side.SELL if p.side == Side.BUY else Side.BUY,
                    orderType=OrderType.MARKET, qty=qty, reduceOnly=True, orderLinkId=link,
                    positionIdx=p.positionIdx))
        names = ", ".join(f"{p.symbol} {p.side} {p.size}" for p in zombies)
        verb = "flattened" if flatten else "adopted"
        await self.failover.alert(c.EXEC_ZOMBIE_ALERT, f"zombie positions {verb}", names)
        return None, f"{verb}: {names}"

    async def _fills(self, batch: Batch):
        new = await self.fills.take(batch)
        return None, ("first boot: history recorded, not replayed" if batch.history else f"{new} fills picked up")

    async def _exit(self):
        if self.failover.holds:
            raise RuntimeError(f"still held: {'; '.join(self.failover.holds.values())}")
        return None, "trade-ready"

    async def sync(self) -> None:
        """The periodic resync (every state but RECOVERING): REST is the fallback when a private message
        was missed. Each part runs on its own (one failing never skips the others); a failure is alerted
        and the part is tried again at the next resync."""
        snap, clean = await self.snapshot()
        intents = await self.store.intents()
        parts: list[tuple[str, Callable[[], Awaitable[object]]]] = [
            ("view", lambda: self.store.replace(orders=snap.orders, positions=snap.positions) if clean
             else self.store.merge(orders=snap.orders, positions=snap.positions)),
            ("TP/SL", lambda: self.protector.check(snap.positions)),
            ("ghost orders", lambda: self._cancel(self.ghosts(snap.orders, intents))),
            ("fills", lambda: self.fills.take(snap.executions)),
            ("unfinished intents", lambda: self.settlement.settle_unfinished(snap.orders, older_than_s=SETTLE_AFTER_S)),
            ("pruning", lambda: self.store.prune_intents(older_than_s=INTENTS_KEPT_S)),
            ("wallet", self.account.refresh_wallet),  # unrealised PnL moves equity without a wallet push
        ]
        for name, part in parts:
            try:
                await part()
            except Exception as e:
                log.warning("resync_part_failed", extra={"ctx": {"part": name, "error": f"{type(e).__name__}: {e}"}})
                await self.failover.alert(c.EXEC_RESYNC_ALERT, f"resync: {name} failed, retrying",
                                          f"{type(e).__name__}: {e}", severity=Severity.WARN)
