"""Execution's hard limits on every entry, the strategy's and the operator's alike.

Checked when the entry is about to be sent (after any wait for NORMAL), against the exchange's own
positions and open orders (Execution's Redis view of them) and the wallet's equity: the entry deadline,
the daily-loss kill switch, the drift of the current price from the intent's reference, the notional of
the order, the number of symbols held or being entered, and the total and per-symbol exposure.
Admissions are decided in order, as if one at a time, and each admitted entry reserves its notional
until its order is on the exchange's books or done, so entries released together (NORMAL after a SAFE
period) cannot pass the limits together. Entries that wait together (a burst of signals) are decided
in one round: one read of the view, then each in its order of arrival against the view plus the
entries admitted before it, without a Redis round trip per entry in the queue. The view is usually read
in the same round trip that records the entries as queued (`offer`), so a round reads nothing more;
one older than VIEW_MAX_AGE_S (an entry that waited out SAFE) is read again.
Reduce-only intents are never limited: they only ever shrink a position.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from common.bybit.enums import OrderType, TimeInForce
from common.bybit.errors import BybitError, BybitNetworkError
from common.bybit.rest import BybitRest
from common.config import Settings
from common.health import Progress
from common.constants import FINAL_INTENT_STATUSES, IntentStatus
from common.schemas import OrderIntent, now_ns
from execution_service.equity import DailyLoss
from execution_service.store import ExposureView, IntentRecord, Store, intent_id_of

log = logging.getLogger(__name__)
PRICE_MAX_AGE_S = 1.0  # a symbol's last price is asked again after this long
WALLET_MAX_AGE_S = 5.0  # an equity reading older than this is refreshed over REST before an entry
WARM_FOR_S = 60.0  # the price of a symbol entered this recently, and the equity, are kept fresh off the path
SETTLE_S = 2.0  # a filled entry stays reserved this long, until the position stream has counted it
VIEW_MAX_AGE_S = 0.05  # an offered view older than this is read again: well above a loaded round trip (a
# few ms), far below anything that moves exposure but our own entries, which their reservations count
TAKERS = frozenset({TimeInForce.IOC, TimeInForce.FOK})  # limit orders that do not rest on the book


@dataclass(frozen=True)
class Refusal:
    """Which limit (its config key, lower case) refused an entry, and the figures that broke it."""

    limit: str
    detail: str

    def __str__(self) -> str:
        return f"limit {self.limit.upper()}: {self.detail}"


@dataclass
class Reservation:
    """An admitted entry's claim on the limits until the exchange's view counts it."""

    symbol: str
    notional: float
    done_at: float = 0.0  # monotonic time it was first seen final (0: not yet)


@dataclass
class Asking:
    """An entry waiting for its admission round; `refusal` is set once `decided`; `gone`: its caller
    stopped waiting (cancelled), so a round must not reserve for it."""

    intent: OrderIntent
    notional: float
    decided: bool = False
    refusal: Refusal | None = None
    gone: bool = False


class Limits:
    """Admits an entry (reserving its notional) or says which limit refuses it."""

    def __init__(self, *, settings: Settings, store: Store, rest: BybitRest, daily: DailyLoss,
                 refresh_wallet: Callable[[], Awaitable[None]]) -> None:
        self.s, self.store, self.rest, self.daily = settings, store, rest, daily
        self.refresh_wallet = refresh_wallet  # an equity reading over REST
        self.lock = asyncio.Lock()  # admission rounds one at a time
        self.waiting: list[Asking] = []  # entries past the pre-checks, in order, for the next round
        self.reserved: dict[str, Reservation] = {}  # intent id -> its claim
        self.prices: dict[str, tuple[float, float]] = {}  # symbol -> (last price, monotonic time)
        self.entered: dict[str, float] = {}  # symbol -> monotonic time of its last entry asked for
        self.offered: ExposureView | None = None  # the view read with the latest entries' records

    async def keep_warm(self, progress: Progress) -> None:
        """Re-read, off the entry path, the price of each symbol entered within WARM_FOR_S and the equity
        once half their max age has passed, so an entry finds them fresh instead of waiting for a REST
        call. admit() still reads for itself whatever it finds too old: this only saves it the wait."""
        while True:
            progress.beat()
            await asyncio.sleep(PRICE_MAX_AGE_S / 4)
            now = time.monotonic()
            recent = [sym for sym, at in self.entered.items() if now - at < WARM_FOR_S]
            reads = [self._read_price(sym) for sym in recent
                     if now - self.prices.get(sym, (0.0, 0.0))[1] > PRICE_MAX_AGE_S / 2]
            if recent and self.daily.age_s() > WALLET_MAX_AGE_S / 2:
                reads.append(self.refresh_wallet())
            for result in await asyncio.gather(*reads, return_exceptions=True):
                if isinstance(result, BybitError | BybitNetworkError):
                    log.info("warm_read_failed", extra={"ctx": {"error": str(result)}})
                elif isinstance(result, BaseException):
                    raise result

    def offer(self, view: ExposureView) -> None:
        """A view read with entries' queued records (Store.add_intents_viewing, of `reserved`'s intents):
        the next rounds decide on it while it is fresh, instead of reading their own."""
        if self.offered is None or view.read_at > self.offered.read_at:
            self.offered = view

    async def admit(self, intent: OrderIntent) -> Refusal | None:
        """None: the entry may go out now (and is reserved); else the limit that refuses it."""
        s = self.s
        self.entered[intent.symbol] = time.monotonic()
        age_s = (now_ns() - intent.created_ts_ns) / 1e9
        if age_s > s.exec_entry_deadline_s:
            return Refusal("exec_entry_deadline_s", f"the entry is {age_s:.1f} s old > {s.exec_entry_deadline_s:g} s")
        limit = float(intent.price or 0) if intent.order_type == OrderType.LIMIT else 0.0
        ref = float(intent.reference_price or 0)
        takes = not limit or intent.time_in_force in TAKERS  # a resting limit is its own price guard
        price = await self._price(intent.symbol) if takes else limit
        if takes and ref > 0:
            drift = abs(price - ref) / ref * 1e4
            if drift > s.exec_max_drift_bps:
                return Refusal("exec_max_drift_bps", f"price {price:g} is {drift:.0f} bps from the reference "
                                                     f"{ref:g} > {s.exec_max_drift_bps:g} bps")
        notional = float(intent.qty) * (limit or price)
        if notional > s.exec_max_order_notional_usdt:
            return Refusal("exec_max_order_notional_usdt",
                           f"{notional:.2f} USDT > {s.exec_max_order_notional_usdt:g} USDT")
        asking = Asking(intent, notional)
        self.waiting.append(asking)
        try:
            async with self.lock:
                if not asking.decided:
                    await self._round(asking)
        except BaseException:  # cancelled or the view unread: no claim may outlive this entry
            asking.gone = True
            if asking in self.waiting:
                self.waiting.remove(asking)
            if asking.decided and asking.refusal is None:
                self.release(intent.intent_id)
            raise
        return asking.refusal

    async def _round(self, mine: Asking) -> None:
        """Decide every entry waiting now (`mine` among them) against one view (offered or read) and one
        read of the kill switch, in order; when a read fails, the others wait for the next round. One view
        for a burst: its entries leave together, so they are recorded and sent together (router.py)."""
        await asyncio.sleep(0)  # a turn for the entries read with this one to join the round
        batch, self.waiting = self.waiting, []
        try:
            view = self._offered_fresh()
            if view is None:
                view, killed = await asyncio.gather(self.store.exposure_view(list(self.reserved)), self._killed())
            else:  # nothing to read but (at most) the wallet: no task, no loop turn
                killed = await self._killed()
        except BaseException:
            self.waiting[:0] = [a for a in batch if a is not mine]
            raise
        exposure = self._exposure(view)
        for a in batch:
            if a.gone:
                continue
            a.refusal = Refusal("exec_daily_loss_limit_pct", killed) if killed else self._exposure_refusal(a, exposure)
            a.decided = True
            if a.refusal is None:
                self.reserved[a.intent.intent_id] = Reservation(symbol=a.intent.symbol, notional=a.notional)
                exposure[a.intent.symbol] = exposure.get(a.intent.symbol, 0.0) + a.notional

    def _exposure_refusal(self, a: Asking, exposure: dict[str, float]) -> Refusal | None:
        s, symbol, notional = self.s, a.intent.symbol, a.notional
        held = set(exposure)
        if symbol not in held and len(held) >= s.exec_max_open_positions:
            return Refusal("exec_max_open_positions", f"{len(held)} symbols held or being entered "
                                                      f"({', '.join(sorted(held))}) >= {s.exec_max_open_positions}")
        on_symbol = exposure.get(symbol, 0.0) + notional
        if on_symbol > s.exec_max_symbol_exposure_usdt:
            return Refusal("exec_max_symbol_exposure_usdt", f"{symbol} would hold {on_symbol:.2f} "
                                                            f"USDT > {s.exec_max_symbol_exposure_usdt:g} USDT")
        total = sum(exposure.values()) + notional
        if total > s.exec_max_exposure_usdt:
            return Refusal("exec_max_exposure_usdt",
                           f"{total:.2f} USDT in all > {s.exec_max_exposure_usdt:g} USDT")
        return None

    def release(self, intent_id: str) -> None:
        """The entry will not reach the exchange (refused after admission): its claim goes."""
        self.reserved.pop(intent_id, None)

    async def _killed(self) -> str:
        """The kill switch's reason ("" when entries may open), from an equity reading at most
        WALLET_MAX_AGE_S old, or the last one when the exchange cannot give a new one."""
        if self.daily.age_s() > WALLET_MAX_AGE_S:
            try:
                await self.refresh_wallet()
            except (BybitError, BybitNetworkError) as e:
                log.warning("wallet_unread", extra={"ctx": {"error": str(e)}})
        return (await self.daily.load()).killed

    async def _price(self, symbol: str) -> float:
        price, at = self.prices.get(symbol, (0.0, 0.0))
        if time.monotonic() - at > PRICE_MAX_AGE_S:
            price = await self._read_price(symbol)
        return price

    async def _read_price(self, symbol: str) -> float:
        [ticker] = await self.rest.tickers(symbol=symbol)
        price = float(ticker.lastPrice)
        self.prices[symbol] = (price, time.monotonic())
        return price

    def _offered_fresh(self) -> ExposureView | None:
        """The offered view while it is under VIEW_MAX_AGE_S old (else the round reads one)."""
        view = self.offered
        if view is not None and time.monotonic() - view.read_at <= VIEW_MAX_AGE_S:
            return view
        return None

    def _exposure(self, view: ExposureView) -> dict[str, float]:
        """symbol -> USDT held or being entered: positions, open entry orders, and admitted entries not
        on the books yet (every reservation the view's records do not show settled: one made after the
        view was read counts in full)."""
        out: dict[str, float] = {}
        for p in view.positions.values():
            value = float(p.positionValue or 0) or float(p.size) * float(p.markPrice or 0)
            out[p.symbol] = out.get(p.symbol, 0.0) + abs(value)
        booked = set()
        for o in view.orders.values():
            if o.reduceOnly or not o.orderLinkId:
                continue
            booked.add(intent_id_of(o.orderLinkId))
            left = float(o.qty) - float(o.cumExecQty or 0)
            price = float(o.price or 0) or self.prices.get(o.symbol, (0.0, 0.0))[0]
            out[o.symbol] = out.get(o.symbol, 0.0) + left * price
        for intent_id, r in list(self.reserved.items()):
            if intent_id in view.records and _settled(view.records[intent_id], r):
                del self.reserved[intent_id]
            elif intent_id not in booked:
                out[r.symbol] = out.get(r.symbol, 0.0) + r.notional
        return out


def _settled(rec: IntentRecord | None, r: Reservation) -> bool:
    """Whether the exchange's view counts this entry now (or it came to nothing)."""
    if rec is None:
        return True
    if rec.status not in FINAL_INTENT_STATUSES:
        return False
    r.done_at = r.done_at or time.monotonic()
    return rec.status != IntentStatus.FILLED or time.monotonic() - r.done_at > SETTLE_S
