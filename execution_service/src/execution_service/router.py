"""Intents -> orders on the exchange, exactly once.

The intent id is the orderLinkId. Its record in Redis is `queued` (with the intent) before the bus
entry is acked, and `sending` before the submit goes out, so a
process killed mid-submit, a redelivered intent or an ambiguous reply (timeout, 5xx, lost connection)
is settled by looking the order up by orderLinkId; it is re-sent only when the exchange proves it
does not have it. The exchange's own 110072 (duplicate orderLinkId) is the second guard.

A burst (signals on several symbols at once) is recorded `sending` in one round trip and sent as one
create-batch (common.coalesce); each order of it is still settled on its own, as a lone create is.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import msgspec

from common.bybit.enums import OPEN_STATUSES, OrderStatus, OrderType, PositionIdx, Side, TimeInForce
from common import constants as c
from common.constants import MAYBE_SENT_INTENT_STATUSES, UNSENT_INTENT_STATUSES, IntentStatus
from common.bybit import constants as k
from common.bybit.backoff import Backoff
from common.bybit.errors import BybitError, BybitNetworkError, should_retry
from common.bybit.ratelimit import PRIORITY_RESERVE
from common.bybit.rest import LINEAR, MAX_BATCH_ORDERS, BybitRest
from common.bybit.schemas.order import Order, OrderId, PlaceOrderParams
from common.bus import Bus
from common.coalesce import Coalescer
from common.config import Settings
from common.schemas import OrderEvent, OrderIntent, Severity, now_ns
from common.bybit import filters
from execution_service.account import Account
from execution_service.failover import Failover
from execution_service.limits import Limits
from execution_service.quality import Quality
from execution_service.store import POST_ONLY_CROSSED, TAKER_SUFFIX, IntentRecord, Store, chunk_link

log = logging.getLogger(__name__)
SUBMIT_ATTEMPTS = 4  # submits proven not to have reached the exchange, before giving up
LOOKUP_ATTEMPTS = 12  # lookups of an ambiguous submit before leaving it to the reconciliation
MAX_IN_FLIGHT = 32  # intents worked on at once (each mostly waits for the exchange)
MAX_CHUNKS = 10  # market orders one exit may be split into (their orderLinkIds: the intent id, then _1.._9)


class Absent(Exception):
    """The exchange answered that it has no order with this orderLinkId."""


class Router:
    """Turns each intent into one order on the exchange (see the module docstring for exactly once)."""

    def __init__(self, *, settings: Settings, bus: Bus, rest: BybitRest | None, store: Store,
                 quality: Quality, account: Account | None, failover: Failover | None,
                 beat: Callable[[], None] = lambda: None, refuse_all: str = "") -> None:
        self.settings, self.bus, self.rest, self.store = settings, bus, rest, store
        self.quality, self.account, self.failover = quality, account, failover
        self.refuse_all = refuse_all  # e.g. no exchange configured: every intent is rejected with this
        self.backoff = Backoff(base_s=0.2, cap_s=3.0)
        self.beat = beat  # the intents consumer's progress, beaten while we wait on purpose
        self.slots = asyncio.Semaphore(MAX_IN_FLIGHT)
        self.active: set[str] = set()  # intents this process is working on
        self.tasks: set[asyncio.Task] = set()
        self.recorded: dict[str, bool] = {}  # intent id -> newly recorded, by record() for the read in hand
        # what each coalescer still expects: the last intent of a burst (or a lone one) sends at once
        self.gating: set[str] = set()  # in the gate: will be recorded `sending`, or refused
        self.placing: dict[bool, set[str]] = {False: set(), True: set()}  # reduce-only? -> order not yet sent
        self.sending = Coalescer(store.put_intents, max_items=MAX_IN_FLIGHT, coming=lambda: len(self.gating))
        # exits apart from entries: only a batch of exits may spend the rate-limit reserve, which a batch
        # of entries must leave in its window
        self.entries = Coalescer(self._place, max_items=MAX_BATCH_ORDERS - PRIORITY_RESERVE,
                                 coming=lambda: len(self.placing[False]))
        self.exits = Coalescer(self._place, max_items=MAX_BATCH_ORDERS, coming=lambda: len(self.placing[True]))
        self.limits = None if account is None else Limits(
            settings=settings, store=store, rest=rest, daily=account.daily, refresh_wallet=account.refresh_wallet)

    async def record(self, intents: list[OrderIntent]) -> None:
        """The consumer's prepare: record a read's new intents as queued in one round trip, so a burst
        does not wait one round trip per intent in handle(). When entries are among them, the limits'
        view is read in the same round trip (Limits.offer): their admission reads nothing more."""
        todo = {i.intent_id: _queued(i) for i in intents if i.intent_id not in self.active}
        recs = list(todo.values())
        if self.limits is not None and any(not r.reduce_only for r in recs):
            added, view = await self.store.add_intents_viewing(recs, list(self.limits.reserved))
            self.limits.offer(view)
        else:
            added = await self.store.add_intents(recs)
        self.recorded = dict(zip(todo, added, strict=True))

    async def handle(self, intent: OrderIntent) -> None:
        """The consumer's handler: record the intent first (once its entry is acked, a crash cannot lose
        it), then work on it in a task of its own, at most MAX_IN_FLIGHT at a time."""
        if intent.intent_id in self.active:
            return
        added = self.recorded.pop(intent.intent_id, None)  # by record(), for this read
        if added is None:
            [added] = await self.store.add_intents([_queued(intent)])
        rec = None
        if not added:  # known already: one round trip for a new one, two here
            rec = await self.store.intent(intent.intent_id)
            if rec is None or rec.status not in UNSENT_INTENT_STATUSES:
                return  # redelivered or replayed: it was handled (or pruned since)
        await self.resume(intent, sent_before=rec is not None and rec.status in MAYBE_SENT_INTENT_STATUSES)

    async def resume(self, intent: OrderIntent, *, sent_before: bool) -> None:
        """Work on an intent unless this process already is; `sent_before`: it may be on the exchange."""
        if intent.intent_id in self.active:
            return
        self.active.add(intent.intent_id)
        try:
            while True:
                try:
                    async with asyncio.timeout(1.0):
                        await self.slots.acquire()
                    break
                except TimeoutError:
                    self.beat()  # waiting for a slot is back-pressure, not a hang
        except BaseException:
            self.active.discard(intent.intent_id)
            raise
        task = asyncio.create_task(self._work(intent, sent_before=sent_before),
                                   name=f"intent:{intent.intent_id}")
        self.tasks.add(task)
        task.add_done_callback(lambda t: self._done(t, intent.intent_id))

    def _done(self, task: asyncio.Task, intent_id: str) -> None:
        self.tasks.discard(task)
        self.active.discard(intent_id)
        self._expect_nothing(intent_id)
        self.slots.release()
        if not task.cancelled() and task.exception() is not None:
            log.error("intent_failed", extra={"ctx": {"intent": intent_id, "error": repr(task.exception())}})

    async def drain(self) -> None:
        """At stop: let submits in flight finish (they are what a kill -9 would leave to recovery)."""
        if self.tasks:
            await asyncio.wait(set(self.tasks), timeout=c.SHUTDOWN_GRACE_S / 2)

    async def _work(self, intent: OrderIntent, *, sent_before: bool) -> None:
        self.quality.received(intent)
        if sent_before:  # a process before us may have sent it
            order = await self.lookup(intent)
            if order is not None:
                await self._acked(intent, order.orderId, found=order)
            else:  # not found yet is no proof: the resync re-sends it once absence is proven
                await self._unknown(intent, "sent before a restart, not found yet")
            return
        self.gating.add(intent.intent_id)
        why = self.refuse_all or await self._gate(intent)
        self.gating.discard(intent.intent_id)
        if why:
            await self._reject(intent, why)
            return
        self.placing[intent.reduce_only].add(intent.intent_id)
        await self.sending.submit(IntentRecord(
            intent_id=intent.intent_id, symbol=intent.symbol, side=intent.side,
            reduce_only=intent.reduce_only,
            status=IntentStatus.SENDING, take_profit=intent.take_profit or "",
            stop_loss=intent.stop_loss or "",
            intent=intent, ts_ns=now_ns()))
        await self._submit(intent)

    async def _gate(self, intent: OrderIntent) -> str:
        """Why this intent must not be sent now ("" = send it)."""
        age_s = (now_ns() - intent.created_ts_ns) / 1e9
        if age_s > self.settings.exec_intent_ttl_s:
            return f"expired: {age_s:.0f} s old"
        if intent.side not in (Side.BUY, Side.SELL):
            return f"side {intent.side!r} is neither Buy nor Sell"
        if intent.reduce_only:
            return ""
        if not await self.failover.wait_normal(self.settings.exec_safe_wait_s, beat=self.beat):
            return f"safe mode: {self.failover.reason}"
        try:
            refusal = await self.limits.admit(intent)  # after the wait: the limits as they stand now
        except (BybitError, BybitNetworkError) as e:  # no price or equity to check against: not sent
            return f"limits not checkable: {e}"
        if refusal is None:
            return ""
        await self.failover.alert(c.exec_limit_alert_key(refusal.limit), f"{intent.source} entry refused: "
                                  f"{intent.symbol} {intent.side} {intent.qty}", f"{intent.intent_id}: {refusal}",
                                  severity=Severity.WARN)
        return str(refusal)

    async def _params(self, intent: OrderIntent, *, taker: bool = False) -> PlaceOrderParams:
        info = await self.account.instrument(intent.symbol)
        tif = intent.time_in_force
        limit = intent.order_type == OrderType.LIMIT and intent.price
        if taker and limit:
            tif = TimeInForce.IOC  # the post-only fallback: the same limit, taking what is there
        return PlaceOrderParams(
            category=LINEAR, symbol=intent.symbol, side=intent.side,
            orderType=OrderType.LIMIT if limit else OrderType.MARKET,
            qty=filters.qty(info, intent.qty), price=filters.price(info, intent.price) if limit else None,
            timeInForce=tif if limit else None, orderLinkId=intent.intent_id + (TAKER_SUFFIX if taker else ""),
            reduceOnly=intent.reduce_only or None, positionIdx=PositionIdx.ONE_WAY,
            takeProfit=None if intent.reduce_only else filters.price(info, intent.take_profit),
            stopLoss=None if intent.reduce_only else filters.price(info, intent.stop_loss),
            tpTriggerBy=None if intent.reduce_only else self.settings.exec_tp_trigger_by,
            slTriggerBy=None if intent.reduce_only else self.settings.exec_sl_trigger_by)

    async def _submit(self, intent: OrderIntent, *, taker: bool = False) -> None:
        """The intent's order; a reduce-only Market exit above maxMktOrderQty as several, each one Bybit
        accepts, sent one after the other while each is placed."""
        try:
            pieces = await self._pieces(intent, taker=taker)
        except (filters.FilterError, ArithmeticError, ValueError) as e:
            await self._reject(intent, str(e))
            return
        for params in pieces:
            if not await self._send(intent, params, taker=taker):
                return

    async def _pieces(self, intent: OrderIntent, *, taker: bool) -> list[PlaceOrderParams]:
        params = await self._params(intent, taker=taker)
        if not intent.reduce_only or params.orderType != OrderType.MARKET:
            return [params]
        chunks = filters.market_chunks(await self.account.instrument(intent.symbol), params.qty)
        if len(chunks) > MAX_CHUNKS:
            raise filters.FilterError(f"an exit of {len(chunks)} market orders; at most {MAX_CHUNKS}")
        return [msgspec.structs.replace(params, qty=qty, orderLinkId=chunk_link(params.orderLinkId, n))
                for n, qty in enumerate(chunks)]

    async def _send(self, intent: OrderIntent, params: PlaceOrderParams, *, taker: bool) -> bool:
        """One order of the intent; True when the exchange has it (the next piece may go)."""
        for attempt in range(1, SUBMIT_ATTEMPTS + 1):
            try:
                self.quality.sent(intent.intent_id)
                self.placing[intent.reduce_only].discard(intent.intent_id)
                ack = await (self.exits if intent.reduce_only else self.entries).submit(params)
                acked_ns = now_ns()
            except BybitError as e:
                if e.code == k.DUPLICATE_ORDER_LINK_ID:
                    order = await self.lookup(intent, link=params.orderLinkId)
                    await self._acked(intent, order.orderId if order else "", found=order)
                    return True
                if should_retry(e) and attempt < SUBMIT_ATTEMPTS:  # refused, not applied: wait, send again
                    self.beat()
                    await asyncio.sleep(self.backoff.compute(attempt))
                    continue
                await self._reject(intent, f"{e.code}: {e.message}")
                return False
            except BybitNetworkError as e:
                log.warning("submit_failed", extra={"ctx": {"intent": intent.intent_id, "error": str(e),
                                                            "ambiguous": e.ambiguous}})
                if e.ambiguous:  # it may have been placed: settled by proof, never re-sent from here
                    try:
                        order = await self.lookup(intent, link=params.orderLinkId)
                    except LookupError as unanswered:
                        await self._unknown(intent, str(unanswered))
                        return False
                    if order is not None:
                        await self._acked(intent, order.orderId, found=order)
                        return True
                    await self._unknown(intent, f"{e}: not found yet, and the order history lags")
                    return False
                self.beat()
                await asyncio.sleep(self.backoff.compute(attempt))
                continue
            await self._acked(intent, ack.orderId, at_ns=acked_ns)
            if intent.time_in_force == TimeInForce.POST_ONLY and intent.post_only_fallback and not taker:
                await self._post_only_fallback(intent)
            return True
        await self._reject(intent, f"exchange unreachable after {SUBMIT_ATTEMPTS} attempts")
        return False

    async def _place(self, orders: list[PlaceOrderParams]) -> list[OrderId | BybitError]:
        """A lone order as create; several as one create-batch, where Bybit places each on its own."""
        if len(orders) == 1:
            return [await self.rest.place_order(orders[0])]
        return await self.rest.place_orders(orders)

    async def _post_only_fallback(self, intent: OrderIntent) -> None:
        """A PostOnly that would have taken liquidity is cancelled by Bybit; send it again as a taker."""
        order = await self.lookup(intent)
        if order is not None and order.rejectReason == POST_ONLY_CROSSED:
            await self._submit(intent, taker=True)

    async def lookup(self, intent: OrderIntent, *, link: str | None = None) -> Order | None:
        """The order by orderLinkId: REST first, then what the private stream told us. None only when
        the exchange answered that it does not exist; when it cannot answer, keep asking."""
        link = link or intent.intent_id
        for attempt in range(1, LOOKUP_ATTEMPTS + 1):
            try:
                return await self.rest.order_by_link(symbol=intent.symbol, order_link_id=link)
            except (BybitNetworkError, BybitError) as e:
                seen = (await self.store.orders()).get(link)
                if seen is not None:
                    return seen
                log.warning("lookup_failed",
                            extra={"ctx": {"link": link, "attempt": attempt, "error": str(e)}})
                self.beat()
                await asyncio.sleep(self.backoff.compute(attempt))
        raise LookupError(f"{link}: the exchange could not say whether it has this order; left for the "
                          f"reconciliation, never resent")

    async def _acked(self, intent: OrderIntent, order_id: str, *, found: Order | None = None,
                     at_ns: int = 0) -> None:
        """The exchange has the order (its reply arrived at `at_ns`, default now). One found by lookup
        may be finished already: settle it from that."""
        await self.store.mark_acked(intent.intent_id, order_id, at_ns=at_ns)
        await self.quality.acked(intent.intent_id)
        if found is not None and found.orderStatus not in OPEN_STATUSES:
            await self.account.on_order(found)

    async def _unknown(self, intent: OrderIntent, reason: str) -> None:
        """A submit whose outcome the exchange has not told: `unknown` (never `rejected`: the order may
        exist) until the resync proves it placed or absent (settlement.py)."""
        log.warning("intent_unknown", extra={"ctx": {"intent": intent.intent_id, "reason": reason}})
        await self.store.settle_intent(intent.intent_id, status=IntentStatus.UNKNOWN, reason=reason)
        await self.failover.alert(c.EXEC_SUBMIT_UNKNOWN_ALERT,
                                  f"submit of {intent.intent_id} unknown: settled by proof", reason,
                                  severity=Severity.WARN)

    def _expect_nothing(self, intent_id: str) -> None:
        """The intent will record or send nothing more that a coalescer should wait for."""
        self.gating.discard(intent_id)
        for waiting in self.placing.values():
            waiting.discard(intent_id)

    async def _reject(self, intent: OrderIntent, reason: str) -> None:
        log.info("intent_rejected", extra={"ctx": {"intent": intent.intent_id, "reason": reason}})
        self._expect_nothing(intent.intent_id)
        if self.limits is not None:
            self.limits.release(intent.intent_id)
        await self.store.put_intent(IntentRecord(
            intent_id=intent.intent_id, symbol=intent.symbol, side=intent.side,
            reduce_only=intent.reduce_only,
            status=IntentStatus.REJECTED, reason=reason, ts_ns=now_ns()))
        self.quality.forget(intent.intent_id)
        await self.bus.publish(c.EXEC_EVENTS, OrderEvent(
            order_link_id=intent.intent_id, order_id="", symbol=intent.symbol, side=intent.side,
            status=OrderStatus.REJECTED, order_type=intent.order_type, qty=intent.qty, price=intent.price or "",
            reduce_only=intent.reduce_only, reject_reason=reason, ts_ns=now_ns()))


def _queued(intent: OrderIntent) -> IntentRecord:
    """An intent's first record: queued, with the intent, so a restart can finish the job."""
    return IntentRecord(intent_id=intent.intent_id, symbol=intent.symbol, side=intent.side,
                        reduce_only=intent.reduce_only, status=IntentStatus.QUEUED, intent=intent, ts_ns=now_ns())
