"""The failover manager: NORMAL -> SAFE -> RECOVERING -> NORMAL.

The service boots SAFE. A trigger (start, private stream lost or silent, a module's heartbeat gone,
Redis lost, an operator) puts it in SAFE; a trigger that is a condition (`hold`) keeps it there until
the condition clears. Then the recovery plan runs; only a clean run returns to NORMAL. A failed run
keeps SAFE and is retried with backoff. In SAFE no entry is sent; reduce-only, TP/SL and cancels are,
and the periodic resync (fills, ghost orders, TP/SL) keeps running.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from enum import StrEnum

import msgspec

from common import constants as c
from common.bybit.backoff import Backoff
from common.health import Progress
from common.lifecycle import Runtime
from common.schemas import Severity, Status, now_ns

log = logging.getLogger(__name__)
OPERATOR = "operator"  # the hold of `scalperctl safe-mode on`: the operator's choice, health stays GREEN


class State(StrEnum):
    NORMAL = "NORMAL"
    SAFE = "SAFE"
    RECOVERING = "RECOVERING"


class StateView(msgspec.Struct, kw_only=True):
    """EXEC_STATE_KEY: what the CLI and dashboard show."""

    state: str
    reason: str
    holds: dict[str, str]
    ts_ns: int


class Failover:
    """The service's trading state (NORMAL, SAFE, RECOVERING), its holds, and the loop that recovers."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.state, self.reason = State.SAFE, "start"
        self.holds: dict[str, str] = {}
        self.normal = asyncio.Event()
        self._wake = asyncio.Event()
        self._pending = "start"  # the trigger the next recovery answers
        self.backoff = Backoff(base_s=0.5, cap_s=15.0)
        self._writes: set[asyncio.Task] = set()  # state writes in flight (the loop keeps only weak refs)

    # --- triggers ---
    def trigger(self, reason: str) -> None:
        """Something happened that the exchange view must be reconciled after: SAFE, then recover."""
        log.warning("safe", extra={"ctx": {"reason": reason}})
        self._pending = reason
        self._enter(State.SAFE, reason)
        self._wake.set()

    def hold(self, name: str, reason: str) -> bool:
        """A condition that keeps SAFE until released; True when it is new."""
        new = name not in self.holds
        self.holds[name] = reason
        if new:
            self.trigger(reason)
        return new

    def release(self, name: str, reason: str) -> bool:
        if self.holds.pop(name, None) is None:
            return False
        self.trigger(reason)
        return True

    async def wait_normal(self, timeout_s: float, *, beat: Callable[[], None]) -> bool:
        """Wait for NORMAL (an entry waiting out a recovery); an operator's hold is not waited out."""
        deadline = time.monotonic() + timeout_s
        while self.state is not State.NORMAL and OPERATOR not in self.holds:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            beat()
            try:
                async with asyncio.timeout(min(left, 1.0)):  # not wait_for: 3.11's can swallow a cancel
                    await self.normal.wait()
            except TimeoutError:
                pass
        return self.state is State.NORMAL

    # --- the loop ---
    async def run(self, progress: Progress, *, recover: Callable[[str], Awaitable[bool]],
                  sync: Callable[[], Awaitable[None]]) -> None:
        """Answer each trigger with `recover(trigger)` (the recovery plan; True: clean, back to NORMAL);
        between triggers, in NORMAL and SAFE alike, `sync()` every EXEC_RECONCILE_INTERVAL_S.

        The plan is given here, not at construction: it needs this failover (its holds and alerts)."""
        failures = 0
        next_sync = time.monotonic() + self.rt.settings.exec_reconcile_interval_s
        while True:
            progress.beat()
            try:
                async with asyncio.timeout(1.0):
                    await self._wake.wait()
            except TimeoutError:
                if time.monotonic() >= next_sync:  # in SAFE too: fills, ghosts and TP/SL never wait for NORMAL
                    next_sync = time.monotonic() + self.rt.settings.exec_reconcile_interval_s
                    await self._quietly(sync)
                continue
            self._wake.clear()
            if self.holds:
                self._enter(State.SAFE, "; ".join(self.holds.values()))
                continue
            trigger = self._pending
            self._enter(State.RECOVERING, f"recovering after: {trigger}")
            try:
                ok = await recover(trigger)
            except Exception as e:  # e.g. Redis went away while the plan was being recorded: retry
                log.warning("recovery_crashed", extra={"ctx": {"error": f"{type(e).__name__}: {e}"}})
                ok = False
            if self._wake.is_set() or self.holds:
                continue  # something new happened meanwhile: go round again
            if ok:
                failures = 0
                self._enter(State.NORMAL, "")
                next_sync = time.monotonic() + self.rt.settings.exec_reconcile_interval_s
            else:
                failures += 1
                self._enter(State.SAFE, f"recovery failed ({failures}x), retrying; after: {trigger}")
                delay = self.backoff.compute(failures)
                asyncio.get_running_loop().call_later(delay, self._wake.set)

    async def _quietly(self, fn: Callable[[], Awaitable[None]]) -> None:
        """Run the resync; a failure (no snapshot at all) is alerted, and the next resync tries again."""
        try:
            await fn()
        except Exception as e:
            log.warning("resync_failed", extra={"ctx": {"error": f"{type(e).__name__}: {e}"}})
            await self.alert(c.EXEC_RESYNC_ALERT, "resync failed, retrying", f"{type(e).__name__}: {e}",
                             severity=Severity.WARN)

    def _enter(self, state: State, reason: str) -> None:
        self.state, self.reason = state, reason
        if state is State.NORMAL:
            self.normal.set()
            self.rt.health.set(Status.GREEN)
        else:
            self.normal.clear()
            quiet = state is State.SAFE and set(self.holds) == {OPERATOR}
            self.rt.health.set(Status.GREEN if quiet else Status.YELLOW, f"{state.value}: {reason}")
        self.rt.health.details["state"] = state.value
        task = asyncio.get_running_loop().create_task(self._publish())
        self._writes.add(task)
        task.add_done_callback(self._writes.discard)

    async def _publish(self) -> None:
        view = StateView(state=self.state.value, reason=self.reason, holds=dict(self.holds), ts_ns=now_ns())
        try:
            await self.rt.bus.redis.set(c.EXEC_STATE_KEY, msgspec.json.encode(view))
        except Exception as e:  # Redis down is a trigger of its own; the next change writes it again
            log.warning("state_not_saved", extra={"ctx": {"error": str(e)}})

    async def alert(self, key: str, title: str, detail: str = "", *,
                    severity: Severity = Severity.CRIT) -> None:
        """Raise an alert (`key`: one of execution's alert keys in common.constants); never raises."""
        try:
            await self.rt.bus.alert(key=key, severity=severity, title=title, detail=detail)
        except Exception as e:
            log.error("alert_not_sent", extra={"ctx": {"title": title, "error": str(e)}})
