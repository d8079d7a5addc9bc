"""Every open position kept under a TP and an SL on the exchange, in every state.

SAFE means "no new entries", never "no protection": this loop polls positions over REST every
EXEC_PROTECT_POLL_S whatever holds exist (private WS down, operator safe mode, MODULE_CRASH, stale data,
Redis down: it needs neither), and is woken at once when the private stream shows a bare position. Each
bare position is handled on its own: a failed TP/SL call is alerted and retried with backoff, a position
still bare EXEC_PROTECT_BOUND_S after it was seen is a CRIT alert, and after EXEC_PROTECT_MAX_TRIES
failures EXEC_UNPROTECTED_POLICY applies (alert only, or a reduce-only close).
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from prometheus_client import Gauge

from common import constants as c
from common.bybit import filters
from common.bybit.backoff import Backoff
from common.bybit.enums import OrderType, Side
from common.bybit.rest import LINEAR, BybitRest
from common.bybit.schemas.order import PlaceOrderParams
from common.bybit.schemas.position import Position
from common.config import Settings, UnprotectedPolicy
from common.health import Progress
from common.schemas import Severity
from execution_service.account import Account, protected

log = logging.getLogger(__name__)
# What Prometheus alerts on (ScalperPositionUnprotected): a position that stays bare across scrapes.
UNPROTECTED = Gauge("scalper_exec_positions_unprotected",
                    "Open positions without TP or SL on the exchange, as of the last protection poll")
Alert = Callable[..., Awaitable[None]]  # Failover.alert: (key, title, detail, *, severity); never raises


@dataclass
class Bare:
    """A position seen without TP or SL: since when (monotonic s), the failed tries, the next try."""

    since: float
    tries: int = 0
    next_try: float = 0.0
    crit: bool = False  # the CRIT for staying bare past the bound was raised
    policy_applied: bool = False


def close_link(prefix: str) -> str:
    """An orderLinkId of ours for a reduce-only close execution decides on its own (36 chars at most)."""
    return f"{prefix}z-{uuid.uuid4().hex[:16]}"


class Protector:
    """Puts the missing TP/SL on every position (see the module docstring); `check` never raises per item."""

    def __init__(self, *, settings: Settings, rest: BybitRest, account: Account, alert: Alert) -> None:
        self.settings, self.rest, self.account, self.alert = settings, rest, account, alert
        self.bare: dict[str, Bare] = {}
        self.backoff = Backoff(base_s=0.5, cap_s=10.0)
        self.wake = asyncio.Event()
        self.polls = 0  # REST polls done (a test and the log see the loop alive)

    def seen_bare(self, p: Position) -> None:
        """The private stream showed `p` without TP or SL: poll now instead of at the next tick."""
        self.bare.setdefault(p.symbol, Bare(since=time.monotonic()))
        self.wake.set()

    async def run(self, progress: Progress) -> None:
        """The loop: in every state, never ending on an error (the next poll tries again)."""
        while True:
            progress.beat()
            try:
                await self.check(await self.rest.positions())
                self.polls += 1
            except Exception as e:  # REST down: the bound's CRIT still fires for positions known bare
                log.warning("protection_poll_failed", extra={"ctx": {"error": f"{type(e).__name__}: {e}"}})
                await self._overdue()
            UNPROTECTED.set(len(self.bare))
            try:
                async with asyncio.timeout(self.settings.exec_protect_poll_s):
                    await self.wake.wait()
            except TimeoutError:
                pass
            self.wake.clear()

    async def check(self, positions: list[Position]) -> list[str]:
        """Protect each bare position in `positions` (a fresh REST read); the symbols still bare."""
        live = {p.symbol: p for p in positions if float(p.size or 0) > 0}
        for symbol in [s for s in self.bare if s not in live or protected(live[s])]:
            del self.bare[symbol]
        for p in live.values():
            if not protected(p):
                await self._protect(p)
        await self._overdue()
        return sorted(self.bare)

    async def _protect(self, p: Position) -> None:
        now = time.monotonic()
        b = self.bare.setdefault(p.symbol, Bare(since=now))
        if now < b.next_try:
            return
        try:
            await self.account.protect(p)
        except Exception as e:
            b.tries += 1
            b.next_try = now + self.backoff.compute(b.tries)
            detail = f"{p.symbol} {p.side} {p.size}: try {b.tries}: {type(e).__name__}: {e}"
            log.error("protect_failed", extra={"ctx": {"symbol": p.symbol, "tries": b.tries, "error": str(e)}})
            await self.alert(c.exec_unprotected_alert_key(p.symbol), f"TP/SL failed on {p.symbol}, retrying",
                             detail, severity=Severity.WARN)
            if b.tries >= self.settings.exec_protect_max_tries and not b.policy_applied:
                b.policy_applied = True
                await self._policy(p, detail)
            return
        del self.bare[p.symbol]  # the next poll shows it protected, or starts again

    async def _overdue(self) -> None:
        """A CRIT for each position bare past the bound (once per episode)."""
        now = time.monotonic()
        for symbol, b in self.bare.items():
            if not b.crit and now - b.since > self.settings.exec_protect_bound_s:
                b.crit = True
                await self.alert(c.exec_unprotected_alert_key(symbol), f"position {symbol} without TP/SL",
                                 f"bare for {now - b.since:.0f} s after {b.tries} failed tries")

    async def _policy(self, p: Position, detail: str) -> None:
        """EXEC_UNPROTECTED_POLICY after EXEC_PROTECT_MAX_TRIES failed tries."""
        key = c.exec_unprotected_alert_key(p.symbol)
        if self.settings.exec_unprotected_policy is UnprotectedPolicy.ALERT:
            await self.alert(key, f"position {p.symbol} cannot be protected: left open (policy alert)", detail)
            return
        try:
            for qty in filters.market_chunks(await self.account.instrument(p.symbol), p.size):
                await self.rest.place_order(PlaceOrderParams(
                    category=LINEAR, symbol=p.symbol, side=Side.SELL if p.side == Side.BUY else Side.BUY,
                    orderType=OrderType.MARKET, qty=qty, reduceOnly=True,
                    orderLinkId=close_link(self.account.prefixes[-1]), positionIdx=p.positionIdx))
        except Exception as e:
            self.bare[p.symbol].policy_applied = False  # the next failed try closes again
            await self.alert(key, f"position {p.symbol} cannot be protected, and its close failed",
                             f"{detail}; close: {type(e).__name__}: {e}")
            return
        await self.alert(key, f"position {p.symbol} cannot be protected: closed (policy close)", detail)
