"""The execution service wired: intents -> orders with TP/SL, the account view, failover.

It boots SAFE and becomes trade-ready only after a clean reconciliation (see failover.py).
"""

from __future__ import annotations

from functools import partial

from common import constants as c
from common.bus import Bus
from common.bybit.http import BybitHttp
from common.bybit.rest import BybitRest
from common.bybit.urls import urls
from common.bybit.ws import BybitWs
from common.config import ExecutionMode, Settings
from common.health import Progress
from common.lifecycle import Runtime
from common.schemas import OrderIntent, Status
from execution_service.account import Account
from execution_service.failover import Failover
from execution_service.guard import Guard
from execution_service.protection import Protector
from execution_service.quality import Quality
from execution_service.recovery import Recovery
from execution_service.router import Router
from execution_service.store import Store

PRIVATE_TOPICS = ("order", "execution", "position", "wallet")


def no_exchange(settings: Settings) -> str:
    """Why no order can be sent ("" when an exchange is configured)."""
    if settings.execution_mode is ExecutionMode.DRY:
        return "DRY mode: orders are not sent"
    if settings.execution_mode is ExecutionMode.SIM and not settings.bybit_rest_url:
        return "no exchange configured (SIM without BYBIT_REST_URL)"
    if not settings.bybit_api_key.get_secret_value():
        return "no exchange credentials (BYBIT_API_KEY)"
    return ""


async def dead_letter(bus: Bus, url: str, raw: bytes | str, error: str) -> None:
    """A private frame that does not decode (a wallet push missing a field, say): to sys.dlq with an
    alert; the stream reads on."""
    await bus.dead_letter(stream=url, raw=raw, error=error)


async def setup(rt: Runtime) -> None:
    """Wire the parts in dependency order: store -> exchange clients -> account -> failover -> guard ->
    private stream -> router -> protection -> recovery; then register the consumer and the tasks."""
    s = rt.settings
    rt.health.details["mode"] = s.execution_mode.value
    store, quality = Store(rt.bus.redis), Quality(rt.bus.redis)
    why = no_exchange(s)
    if why:  # say so, keep answering intents (rejected with the reason), never crash
        rt.health.set(Status.YELLOW if s.execution_mode is not ExecutionMode.DRY else Status.GREEN, why)
        router = Router(settings=s, bus=rt.bus, rest=None, store=store, quality=quality, account=None,
                        failover=None, refuse_all=why)
        rt.consume(c.EXEC_INTENTS, router.handle, types=(OrderIntent,))
        return

    u = urls(s)
    key, secret = s.bybit_api_key.get_secret_value(), s.bybit_api_secret.get_secret_value()
    rest = BybitRest(BybitHttp(base_url=u.rest, api_key=key, api_secret=secret,
                               timeout_s=s.exec_rest_timeout_s))
    account = Account(settings=s, bus=rt.bus, rest=rest, store=store, quality=quality)
    failover = Failover(rt)  # SAFE until the first clean recovery
    guard = Guard(rt, failover=failover, ws_url=u.ws_private)

    async def login_failed(reason: str) -> None:
        await guard.ws_login_failed(reason)
        await rest.http.sync_time()  # the login is signed with REST's server clock: measure it again

    ws = BybitWs(url=u.ws_private, on_message=account.on_ws, api_key=key, api_secret=secret,
                 on_connect=guard.ws_connected, on_disconnect=guard.ws_lost, on_login_failed=login_failed,
                 on_undecodable=partial(dead_letter, rt.bus, u.ws_private), clock_ms=rest.http.now_ms,
                 silent_after_s=s.exec_ws_silent_s, ping_interval_s=s.exec_ws_silent_s / 3)
    await ws.subscribe(PRIVATE_TOPICS)
    intents = Progress(f"consume:{c.EXEC_INTENTS}")
    router = Router(settings=s, bus=rt.bus, rest=rest, store=store, quality=quality, account=account,
                    failover=failover, beat=intents.beat)
    protector = Protector(settings=s, rest=rest, account=account, alert=failover.alert)
    account.on_bare = protector.seen_bare
    recovery = Recovery(settings=s, rest=rest, ws=ws, store=store, account=account, failover=failover,
                        router=router, protector=protector)
    failover.trigger("start")

    rt.on_control(guard.on_control)
    # "0": intents published before this group first existed are handled too (rejected when expired)
    rt.consume(c.EXEC_INTENTS, router.handle, types=(OrderIntent,), start_id="0", progress=intents,
               prepare=router.record)
    rt.task("failover", partial(failover.run, recover=recovery.run, sync=recovery.sync))
    rt.task("guard", guard.run)
    # not critical: an entry reads for itself what this has not kept fresh
    rt.task("limits-warm", router.limits.keep_warm, critical=False)
    rt.task("protection", protector.run)  # TP/SL on every position in every state, never waiting for NORMAL
    # critical: if the stream's task ever ends, the service exits and its supervisor restarts it,
    # instead of staying SAFE forever; unwatched: it bounds its own silence and backs off on purpose
    rt.task("private-ws", lambda _progress: ws.run(), watched=False)

    async def close() -> None:
        await router.drain()
        await ws.close()
        await rest.http.aclose()

    rt.on_shutdown(close)
