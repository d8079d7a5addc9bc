"""The market service's modules wired to the runtime: WS feed, publisher, monitor, universe refresh.

The monitor (every MONITOR_INTERVAL_S) turns the feed's state into actions and words: it resubscribes
books that need a resync, resyncs stalled ones, writes operator state, sets the heartbeat's status
and reason, and raises alerts (WS disconnect, silent feed, resync storm).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable

from common import constants as c
from common.bybit import constants as k
from common.bybit.http import BybitHttp
from common.bybit.schemas.envelope import PublicMsg
from common.bybit.rest import BybitRest
from common.bybit.urls import urls
from common.bybit.ws import BybitWs
from common.health import Progress
from common.lifecycle import Runtime
from common.schemas import BookTop, Severity, Status
from market_service import metrics as m
from market_service import store, universe
from market_service.market import Market
from market_service.publisher import Publisher

log = logging.getLogger(__name__)

MONITOR_INTERVAL_S = 0.2
RESYNC_STORM = 10  # resyncs (not probes) within RESYNC_STORM_WINDOW_S that make a storm (CRIT alert)
RESYNC_STORM_WINDOW_S = 60.0
ALERT_EVERY_S = 60.0  # the same alert key is raised at most this often
# The `reason` label of the resync counter: the first matched in the reason text (anything else:
# "invalid"). "unanswered" goes first: "resync unanswered: <why it was asked>" is a silent feed.
RESYNC_KINDS = ("unanswered", "gap", "crossed", "without a snapshot", "no book message", "disconnected")
PROBE = "no book message"  # the kind of a quiet (still live) book's snapshot request


def resync_kind(reason: str) -> str:
    return next((kind for kind in RESYNC_KINDS if kind in reason), "invalid")


def topics(symbol: str, *, depth: int) -> list[str]:
    """The public topics the service reads for a symbol: its book at `depth` and its trades."""
    return [f"orderbook.{depth}.{symbol}", f"publicTrade.{symbol}"]


class MarketService:
    """The feed, the market state, the publisher and the monitor of one market service process."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        s = rt.settings
        self.urls = urls(s)
        self.publisher = Publisher(bus=rt.bus, build=self._build)
        self.market = Market(
            publisher=self.publisher,
            resync=self._on_resync,
            flow_window_s=s.market_flow_window_s,
            vol_window_s=s.market_vol_window_s,
            imbalance_levels=s.market_imbalance_levels,
            publish_levels=s.market_publish_levels,
            book_depth=s.market_book_depth,
        )
        silent = min(k.SILENT_AFTER_S, s.market_stale_after_s)
        self.ws = BybitWs(
            url=self.urls.ws_public,
            on_message=self._on_message,
            on_connect=self._on_connect,
            silent_after_s=silent,
            ping_interval_s=min(k.PING_INTERVAL_S, silent / 3),
        )
        self.feed_progress = Progress("feed")
        self._pending: dict[str, str] = {}  # symbol -> why its book needs a fresh snapshot
        self._resyncs: deque[float] = deque()
        self._alerted: dict[str, float] = {}
        self._was_connected = False
        self._connects = 0  # the WS connection number seen at the last monitor pass

    def topics(self, symbol: str) -> list[str]:
        return topics(symbol, depth=self.rt.settings.market_book_depth)

    # --- feed callbacks ---
    def _on_message(self, msg: PublicMsg) -> Awaitable[None] | None:
        """The connector's handler: update state; hand back a wait when the trade buffer is full."""
        self.market.on_message(msg)
        self.feed_progress.beat()
        if self.publisher.full:
            return self.publisher.wait_room()
        return None

    def _on_connect(self) -> None:
        self.feed_progress.beat()
        log.info("ws_connected", extra={"ctx": {"url": self.ws.url, "connects": self.ws.connects}})

    def _build(self, symbol: str, now_ns: int) -> BookTop | None:
        return self.market.book_top(symbol, now_ns)

    def _on_resync(self, symbol: str, reason: str) -> None:
        kind = resync_kind(reason)
        m.RESYNCS.labels(kind).inc()
        self._pending[symbol] = reason
        if kind != PROBE:  # a quiet book's probe says nothing bad about the feed: no storm from quiet
            self._resyncs.append(time.monotonic())
        log.warning("book_resync", extra={"ctx": {"symbol": symbol, "reason": reason}})

    # --- tasks ---
    async def feed(self, progress: Progress) -> None:
        """Keep the public WS connected; `progress` is beaten per message (see setup)."""
        await self.ws.run()

    async def universe(self, progress: Progress) -> None:
        """Resolve the universe (retrying until it can), then re-rank it on schedule, until stopping.

        Graceful: at stop it returns between calls instead of being cancelled inside the HTTP client.
        """
        s = self.rt.settings
        http = BybitHttp(base_url=self.urls.rest)
        rest = BybitRest(http)
        failures = 0
        try:
            while not self.rt.stopping.is_set():
                try:
                    await self.apply_universe(await universe.resolve(s, rest))
                    failures = 0
                    delay = s.market_universe_refresh_s
                except asyncio.CancelledError:
                    raise
                except Exception as e:
                    failures += 1
                    log.warning(
                        "universe_failed",
                        extra={"ctx": {"error": f"{type(e).__name__}: {e}", "attempt": failures}},
                    )
                    delay = min(30.0, 0.5 * 2**failures)
                progress.beat()
                if universe.configured(s) is not None and failures == 0:
                    return  # a fixed universe needs no refresh
                await self._stopping_within(delay)
        finally:
            await http.aclose()

    async def apply_universe(self, symbols: list[str]) -> None:
        old = list(self.market.symbols)
        added = [x for x in symbols if x not in self.market.symbols]
        removed = [x for x in old if x not in symbols]
        for x in added:
            self.market.add(x)
        for x in removed:
            self.market.remove(x)
            self._pending.pop(x, None)
        if removed:
            await self.ws.unsubscribe([t for x in removed for t in self.topics(x)])
        if added:
            await self.ws.subscribe([t for x in added for t in self.topics(x)])
        await store.set_universe(self.rt.bus.redis, symbols=symbols, removed=removed)
        self.rt.health.details["symbols"] = ",".join(symbols)
        if added or removed:
            log.info("universe", extra={"ctx": {"symbols": symbols, "added": added, "removed": removed}})

    async def monitor(self, progress: Progress) -> None:
        """Every MONITOR_INTERVAL_S until the service stops; then it winds the feed and publisher down."""
        s = self.rt.settings
        while not await self._stopping_within(MONITOR_INTERVAL_S):
            connected = self.ws.connected.is_set()
            if not connected:
                self.feed_progress.beat()  # reconnecting with backoff is expected, not a hang
            # Lost since the last look: down now, or already back (a new connection number).
            if (self._was_connected and not connected) or self.ws.connects > self._connects > 0:
                if not connected:
                    self.market.mark_all_stale("public WS disconnected")
                await self._alert(
                    c.MARKET_WS_ALERT,
                    severity=Severity.WARN,
                    title="market: public WS disconnected",
                    detail=f"{self.ws.url} (connection #{self.ws.connects})",
                )
            self._was_connected, self._connects = connected, self.ws.connects
            self.market.check_stale(stale_after_s=s.market_stale_after_s)
            await self._resubscribe(connected)
            try:
                await store.write(
                    self.market, self.rt.bus.redis, depth=s.market_book_depth, now_ns=time.time_ns()
                )
            except Exception as e:  # Redis away: the heartbeat reports it; state catches up later
                log.warning("state_write_failed", extra={"ctx": {"error": str(e)}})
            self._health(connected)
            self.market.flush_metrics()
            progress.beat()
        # Stop by returning, not by cancellation: the feed closes its socket, the publisher drains.
        await self.ws.close()
        self.publisher.stop()

    async def _stopping_within(self, seconds: float) -> bool:
        """Wait up to `seconds`; True once the service is stopping."""
        try:
            async with asyncio.timeout(seconds):
                await self.rt.stopping.wait()
        except TimeoutError:
            pass
        return self.rt.stopping.is_set()

    async def _resubscribe(self, connected: bool) -> None:
        """Ask for fresh snapshots (a reconnect resubscribes everything anyway) and say why."""
        pending, self._pending = self._pending, {}
        for symbol, reason in pending.items():
            if connected:
                await self.ws.resubscribe(self.topics(symbol)[0])
            kind = resync_kind(reason)
            if kind == PROBE:
                continue  # a quiet book is probed, not alerted; "unanswered" is the silent feed
            title = (
                f"market: {symbol} feed silent" if kind == "unanswered" else f"market: {symbol} book resync"
            )
            await self._alert(
                c.market_resync_alert_key(symbol, kind), severity=Severity.WARN, title=title, detail=reason
            )
        now = time.monotonic()
        while self._resyncs and now - self._resyncs[0] > RESYNC_STORM_WINDOW_S:
            self._resyncs.popleft()
        if len(self._resyncs) >= RESYNC_STORM:
            await self._alert(
                c.MARKET_RESYNC_STORM_ALERT,
                severity=Severity.CRIT,
                title="market: resync storm",
                detail=f"{len(self._resyncs)} book resyncs in {RESYNC_STORM_WINDOW_S:g} s",
            )

    def _health(self, connected: bool) -> None:
        s = self.rt.settings
        stale = self.market.stale()
        m.STALE_BOOKS.set(len(stale))
        reasons = []
        if not connected:
            reasons.append("public WS disconnected")
        if stale:
            reasons.append("stale books: " + "; ".join(f"{x} ({why})" for x, why in sorted(stale.items())))
        slow = {
            x: st.latency_ms
            for x, st in self.market.symbols.items()
            if st.latency_ms > s.market_latency_warn_ms
        }
        if slow:
            reasons.append("feed latency: " + ", ".join(f"{x} {ms:.0f} ms" for x, ms in sorted(slow.items())))
        if not self.market.symbols:
            reasons.append("no symbols yet")
        self.rt.health.set(Status.YELLOW if reasons else Status.GREEN, "; ".join(reasons)[:500])

    async def _alert(self, key: str, *, severity: Severity, title: str, detail: str) -> None:
        now = time.monotonic()
        if now - self._alerted.get(key, -ALERT_EVERY_S) < ALERT_EVERY_S:
            return
        self._alerted[key] = now
        try:
            await self.rt.bus.alert(key=key, severity=severity, title=title, detail=detail)
        except Exception as e:
            log.warning("alert_failed", extra={"ctx": {"key": key, "error": str(e)}})


async def setup(rt: Runtime) -> MarketService:
    """Register the market service's tasks on the runtime."""
    svc = MarketService(rt)
    rt.health.details["mode"] = rt.settings.execution_mode.value
    rt.health.set(Status.YELLOW, "starting: no symbols yet")
    # Every task is graceful: at stop each returns by itself (see monitor), so the last trades and
    # books still reach the bus and no task depends on cancellation landing at a clean point.
    svc.feed_progress = rt.task("feed", svc.feed, graceful=True)
    rt.task("publisher", svc.publisher.run, graceful=True)
    rt.task("monitor", svc.monitor, graceful=True)
    rt.task("universe", svc.universe, critical=False, graceful=True)
    return svc
