"""The platform checks of the fault scenarios: services GREEN, a service killed (kill -9) and back, SAFE
and an alert on the fault, a recovery plan run to ok, the simulator's private WS dropped.

Each is a step's check, (ctx) -> (holds, detail), polled until it holds; StepFailed fails the step at once.
"""

from __future__ import annotations

from common.bybit.http import BybitHttp
from common.schemas import Severity, now_ns

from common import constants as c
from dashboard import platform_state
from dashboard.scenarios import supervisor
from dashboard.scenarios.steps import Check, Context, StepFailed


async def all_green(ctx: Context) -> tuple[bool, str]:
    """Every service GREEN; the detail names those that are not."""
    services = ctx.monitor.snapshot()["services"]
    other = [f"{s['name']} {s['status']} ({s['reason']})" for s in services if s["status"] != "GREEN"]
    return not other, ", ".join(other) or f"{len(services)} services GREEN"


def green(service: str) -> Check:
    """`service` GREEN with a pid; remembers its pid, restarts and start time for the later steps."""

    async def check(ctx: Context) -> tuple[bool, str]:
        s = ctx.service(service)
        if s["status"] != "GREEN" or not s["pid"]:
            return False, f"{service} {s['status']} ({s['reason']})"
        hb = ctx.monitor.services[service].heartbeat
        ctx.facts.update(pid=s["pid"], restarts=s["restarts"], start_s=hb.start_ts_ns / 1e9 if hb else 0.0)
        return True, f"{service} GREEN, pid {s['pid']}, restarts {s['restarts']}"

    return check


def kill(service: str) -> Check:
    """SIGKILL to `service`'s process through its supervisor, once the process is proven to be that
    service's (dashboard.scenarios.supervisor)."""

    async def check(ctx: Context) -> tuple[bool, str]:
        ctx.facts["fault_ns"] = now_ns()
        done = await supervisor.sigkill(service, pid=ctx.facts["pid"], start_s=ctx.facts["start_s"],
                                        supervisor=ctx.service(service)["supervisor"])
        return True, done

    return check


def red(service: str) -> Check:
    """`service` seen RED by the health monitor."""

    async def check(ctx: Context) -> tuple[bool, str]:
        s = ctx.service(service)
        return s["status"] == "RED", f"{service} {s['status']} ({s['reason']})"

    return check


def back(service: str) -> Check:
    """`service` GREEN again with a new pid and one more restart counted."""

    async def check(ctx: Context) -> tuple[bool, str]:
        s = ctx.service(service)
        old, restarts = ctx.facts["pid"], ctx.facts["restarts"]
        detail = f"{service} {s['status']}, pid {old} -> {s['pid']}, restarts {restarts} -> {s['restarts']}"
        return s["status"] == "GREEN" and s["pid"] not in (None, old) and s["restarts"] > restarts, detail

    return check


def alert_raised(key: str, severity: Severity) -> Check:
    """An alert with `key` and `severity` raised since the fault."""

    async def check(ctx: Context) -> tuple[bool, str]:
        since = ctx.facts["fault_ns"]
        for a in ctx.alerts.listing(severity=severity.value):
            if a["key"] == key and max(a["ts_ns"], a["last_ts_ns"]) >= since:
                return True, f"{a['severity']} {a['title']}"
        return False, f"no {severity.value} alert {key} since the fault"

    return check


def safe(hold: str) -> Check:
    """Execution in SAFE for this hold, or already recovering from it (its alert proves the edge)."""

    async def check(ctx: Context) -> tuple[bool, str]:
        view = await platform_state.execution_state(ctx.rt.bus.redis) or {}
        ok = hold in view.get("holds", {}) or view.get("state") == "RECOVERING"
        seen, alert = await alert_raised(c.execution_alert_key(hold), Severity.CRIT)(ctx)
        return ok or seen, f"execution {view.get('state')}: {view.get('reason', '')}; {alert}"

    return check


async def normal(ctx: Context) -> tuple[bool, str]:
    """Execution NORMAL again after a recovery plan that started after the fault and ended ok."""
    redis = ctx.rt.bus.redis
    view = await platform_state.execution_state(redis) or {}
    plans = [p for p in await platform_state.recovery_plans(redis)
             if p.get("start_ns", 0) >= ctx.facts["fault_ns"]]
    done = [p for p in plans if p.get("outcome") == "ok"]
    detail = f"execution {view.get('state')} ({view.get('reason', '')}); plans since the fault: " + (
        ", ".join(f"{p.get('trigger')}: {p.get('outcome')}" for p in plans) or "none"
    )
    return view.get("state") == "NORMAL" and bool(done), detail


async def ready_to_trade(ctx: Context) -> tuple[bool, str]:
    """Every service GREEN and execution NORMAL."""
    everyone_green, detail = await all_green(ctx)
    view = await platform_state.execution_state(ctx.rt.bus.redis) or {}
    is_normal = view.get("state") == "NORMAL"
    detail = f"{detail}; execution {view.get('state')} {view.get('reason', '')}".rstrip()
    return everyone_green and is_normal, detail


async def drop_private_ws(ctx: Context) -> tuple[bool, str]:
    """The simulator's fault switch, as `scalperctl sim drop private` flips it."""
    s = ctx.rt.settings
    if not s.bybit_rest_url:
        raise StepFailed("BYBIT_REST_URL is not set: no simulator to reach")
    http = BybitHttp(base_url=s.bybit_rest_url, api_key=s.bybit_api_key.get_secret_value(),
                     api_secret=s.bybit_api_secret.get_secret_value(), timeout_s=5.0, time_sync=False)
    try:
        ctx.facts["fault_ns"] = now_ns()
        result = await http.post("/admin/faults", {"drop": ["private"]}, dict)
    finally:
        await http.aclose()
    return True, f"simulator: {result}"
