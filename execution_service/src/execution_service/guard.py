"""What puts the service in SAFE: the private stream lost or silent (told by the WS client the moment
it happens), a required module's heartbeat gone or sent by a new instance (MODULE_CRASH: a restart is a
crash however quick the supervisor is), stale market data, Redis lost or restarted (a new run_id), the
operator (polled twice a second). Each edge alerts once."""

from __future__ import annotations

import asyncio
import json
import logging
import time

from common import constants as c
from common.bus import REDIS_DOWN
from common.health import Progress
from common.lifecycle import Runtime
from common.schemas import Command, ControlCommand, Heartbeat, Severity, decode
from execution_service.failover import OPERATOR, Failover

log = logging.getLogger(__name__)
POLL_S = 0.5
STALE_DATA_S = 5.0  # a book distrusted this long (the market service is resyncing it) means SAFE


class Guard:
    """Watches for what must put the service in SAFE, and tells the failover (hold, release, trigger)."""

    def __init__(self, rt: Runtime, *, failover: Failover, ws_url: str) -> None:
        self.rt, self.fo, self.ws_url = rt, failover, ws_url
        self.ws_connects = 0  # the private stream's (re)connections: this guard is its on_connect
        self.modules = [m.strip() for m in rt.settings.exec_required_modules.split(",") if m.strip()]
        self.seen: dict[str, Heartbeat | None] = {}  # module -> its last heartbeat (None: not one we read)
        self.redis_run_id = ""  # the Redis we talk to; another one is a Redis restart
        self.stale_since: float | None = None

    async def run(self, progress: Progress) -> None:
        while True:
            progress.beat()
            try:
                await self.check()
            except Exception:  # a bug here must not take the service down; the next poll tries again
                log.exception("guard_check_failed")
            await asyncio.sleep(POLL_S)

    async def check(self) -> None:
        await self._operator(self.rt.safe_mode)
        try:
            run_id = await self.rt.bus.run_id()  # also the liveness probe
            keys = [c.heartbeat_key(m) for m in self.modules]
            alive = await self.rt.bus.redis.mget(keys) if keys else []
        except REDIS_DOWN:
            self.fo.hold("redis", "Redis lost")
            return
        await self._redis(run_id)
        if c.MARKET in self.modules:
            await self._market_data()
        for module, raw in zip(self.modules, alive):
            hold, alert = f"module:{module}", c.exec_module_alert_key(module)
            if raw is not None:
                await self._beating(module, _heartbeat(raw))
            elif module in self.seen and self.fo.hold(hold, f"MODULE_CRASH: {module} heartbeat stopped"):
                await self.fo.alert(alert, f"MODULE_CRASH: {module} heartbeat stopped: SAFE")

    async def _redis(self, run_id: str) -> None:
        """Redis answers: back after an outage, or a new server (run_id) that may have lost writes."""
        back = self.fo.release("redis", "Redis reconnected")
        before, self.redis_run_id = self.redis_run_id, run_id
        if before and run_id != before:
            self.fo.trigger(f"Redis restarted (run_id {before} -> {run_id})")
            await self.fo.alert(c.EXEC_REDIS_ALERT, "Redis restarted: SAFE, reconciling",
                                f"run_id {before} -> {run_id}: the exchange is read again for what it lost")
        elif back:
            await self.fo.alert(c.EXEC_REDIS_ALERT, "Redis reconnected: reconciling", severity=Severity.WARN)

    async def _beating(self, module: str, hb: Heartbeat | None) -> None:
        """A module's heartbeat is there: back after a stop, or from a new instance (a restart quicker
        than the heartbeat's TTL) -- MODULE_CRASH as much as a heartbeat that stopped."""
        hold, alert = f"module:{module}", c.exec_module_alert_key(module)
        before = self.seen.get(module)
        self.seen[module] = hb
        restarted = before is not None and hb is not None and before.instance() != hb.instance()
        why = f"MODULE_CRASH: {module} restarted (pid {before.pid} -> {hb.pid})" if restarted else ""
        if self.fo.release(hold, why or f"{module} heartbeat back"):
            await self.fo.alert(alert, f"{module} is back: reconciling", why, severity=Severity.INFO)
        elif restarted:
            self.fo.trigger(why)
            await self.fo.alert(alert, f"{why}: SAFE")

    async def _market_data(self) -> None:
        """Books the market service distrusts (its summary's `stale`) for STALE_DATA_S: SAFE until fresh."""
        rows = [json.loads(v) for v in (await self.rt.bus.redis.hgetall(c.MARKET_SUMMARY_KEY)).values()]
        stale = sorted(r["symbol"] for r in rows if r.get("stale"))
        now = time.monotonic()
        self.stale_since = (self.stale_since or now) if stale else None
        if stale and now - self.stale_since >= STALE_DATA_S:
            if self.fo.hold("market-data", f"stale market data: {', '.join(stale)}"):
                await self.fo.alert(c.EXEC_MARKET_DATA_ALERT, "stale market data: SAFE", ", ".join(stale))
        elif not stale:
            self.fo.release("market-data", "market data fresh again")

    async def ws_lost(self, reason: str) -> None:
        """The private stream dropped or fell silent: SAFE at once, whatever the reconnect does next."""
        if self.fo.hold("ws", f"private WS lost or silent ({reason})"):
            await self.fo.alert(c.EXEC_WS_ALERT, "private WebSocket lost or silent: SAFE",
                                f"{self.ws_url}: {reason}")

    async def ws_login_failed(self, reason: str) -> None:
        """The private stream's login was refused (the client retries with backoff): SAFE, and a CRIT
        alert on every refusal, so an operator sees a stream that cannot log in whatever held before."""
        self.fo.hold("ws", f"private WS login refused ({reason})")
        await self.fo.alert(c.EXEC_WS_ALERT, "private WebSocket login refused: SAFE, retrying",
                            f"{self.ws_url}: {reason}")

    def ws_connected(self) -> None:
        """The private stream (re)subscribed: whatever it missed is reconciled."""
        self.ws_connects += 1
        if not self.fo.release("ws", "private WS reconnected") and self.ws_connects > 1:
            self.fo.trigger("private WS reconnected")

    async def on_control(self, cmd: ControlCommand) -> None:
        if cmd.target not in ("*", self.rt.service):
            return
        if cmd.command is Command.RECONCILE:
            self.fo.trigger(f"operator reconcile ({cmd.issued_by})")
        elif cmd.command in (Command.SAFE_MODE_ON, Command.SAFE_MODE_OFF):
            await self._operator(cmd.command is Command.SAFE_MODE_ON)

    async def _operator(self, on: bool) -> None:
        if on:
            self.fo.hold(OPERATOR, "operator safe mode")
        else:
            self.fo.release(OPERATOR, "operator released safe mode")


def _heartbeat(raw: bytes) -> Heartbeat | None:
    """The heartbeat in a TTL key; None for anything else there (its presence still means alive)."""
    try:
        hb = decode(raw)
    except ValueError:  # DecodeError is a ValueError
        return None
    return hb if isinstance(hb, Heartbeat) else None
