"""The platform checks of the fault scenarios: services GREEN, a service killed (kill -9) and back, SAFE
and an alert on the fault, a recovery plan run to ok, the simulator's private WS dropped.

Each is a step's check, (ctx) -> (holds, detail), polled until it holds; StepFailed fails the step at once.
"""

from __future__ import annotations

from redis.exceptions import ResponseError
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
    """`service` seen RED by the health monitor; time to detect: the fault to the monitor's RED."""

    async def check(ctx: Context) -> tuple[bool, str]:
        s = ctx.service(service)
        if s["status"] != "RED":
            return False, f"{service} {s['status']} ({s['reason']})"
        ctx.since_fault("detect_s", max(s["status_since_ns"], ctx.facts["fault_ns"]))
        return True, f"{service} RED ({s['reason']}) {ctx.figures['detect_s']:.1f} s after the fault"

    return check


def back(service: str) -> Check:
    """`service` GREEN again with a new pid and one more restart counted."""

    async def check(ctx: Context) -> tuple[bool, str]:
        s = ctx.service(service)
        old, restarts = ctx.facts["pid"], ctx.facts["restarts"]
        detail = f"{service} {s['status']}, pid {old} -> {s['pid']}, restarts {restarts} -> {s['restarts']}"
        return s["status"] == "GREEN" and s["pid"] not in (None, old) and s["restarts"] > restarts, detail

    return check


def alert_raised(key: str, severity: Severity, *, figures: tuple[str, ...] = ()) -> Check:
    """An alert with `key` and `severity` raised since the fault; each of `figures` is the time from the
    fault to the alert (execution raises its hold's alert as it goes SAFE: detection and SAFE at once)."""

    async def check(ctx: Context) -> tuple[bool, str]:
        at = _alert_since_fault(ctx, key, severity)
        if at is None:
            return False, f"no {severity.value} alert {key} since the fault"
        for name in figures:
            ctx.since_fault(name, at["at_ns"])
        return True, f"{at['severity']} {at['title']}"

    return check


def _alert_since_fault(ctx: Context, key: str, severity: Severity) -> dict | None:
    """The alert with `key` and `severity` raised (or repeated) since the fault, with `at_ns`: when it was
    raised since the fault; None when there is none."""
    since = ctx.facts["fault_ns"]
    for a in ctx.alerts.listing(severity=severity.value):
        if a["key"] == key and max(a["ts_ns"], a["last_ts_ns"]) >= since:
            return a | {"at_ns": a["ts_ns"] if a["ts_ns"] >= since else a["last_ts_ns"]}
    return None


def safe(hold: str) -> Check:
    """Execution in SAFE for this hold, or already recovering from it (its alert proves the edge); time to
    SAFE: the fault to the hold's alert, else to execution's state write that shows the hold."""

    async def check(ctx: Context) -> tuple[bool, str]:
        view = await platform_state.execution_state(ctx.rt.bus.redis) or {}
        held = hold in view.get("holds", {}) or view.get("state") == "RECOVERING"
        alert = _alert_since_fault(ctx, c.execution_alert_key(hold), Severity.CRIT)
        seen = f"{alert['severity']} {alert['title']}" if alert else f"no CRIT alert for {hold} since the fault"
        detail = f"execution {view.get('state')}: {view.get('reason', '')}; {seen}"
        if not (held or alert):
            return False, detail
        ctx.since_fault("safe_s", alert["at_ns"] if alert else max(view.get("ts_ns", 0), ctx.facts["fault_ns"]))
        return True, detail

    return check


async def normal(ctx: Context) -> tuple[bool, str]:
    """Execution NORMAL again after a recovery plan that started after the fault and ended ok, and every
    service GREEN; time to recover: the fault to the later of the plan's end and the last service's GREEN."""
    redis = ctx.rt.bus.redis
    view = await platform_state.execution_state(redis) or {}
    plans = [p for p in await platform_state.recovery_plans(redis)
             if p.get("start_ns", 0) >= ctx.facts["fault_ns"]]
    done = [p for p in plans if p.get("outcome") == "ok"]
    everyone_green, green = await all_green(ctx)
    detail = f"execution {view.get('state')} ({view.get('reason', '')}); plans since the fault: " + (
        ", ".join(f"{p.get('trigger')}: {p.get('outcome')}" for p in plans) or "none"
    ) + f"; {green}"
    if not (view.get("state") == "NORMAL" and done and everyone_green):
        return False, detail
    greens = [s["status_since_ns"] for s in ctx.monitor.snapshot()["services"]]
    ctx.since_fault("recover_s", max([done[0].get("end_ns", 0), *greens, ctx.facts["fault_ns"]]))
    return True, detail


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


async def nothing_lost(ctx: Context) -> tuple[bool, str]:
    """No bus message lost since the fault (facts["fault_ns"]); figures `messages_lost` and `dead_letters`."""
    lost, detail = await bus_losses(ctx, since_ms=ctx.facts["fault_ns"] // 1_000_000)
    if lost > 0:
        raise StepFailed(detail)
    return lost == 0, detail


async def bus_losses(ctx: Context, *, since_ms: int) -> tuple[int, str]:
    """Bus messages lost since `since_ms` (Redis's clock): dead letters on sys.dlq, and entries trimmed from a
    stream before a consumer group read them (Redis 7 then cannot count the group's lag); while a group has
    not read or acknowledged everything yet it counts as behind, not lost. (lost, detail); lost is -1 while
    a group is behind (poll again). Figures `messages_lost` and `dead_letters`."""
    redis = ctx.rt.bus.redis
    dead = len(await redis.xrange(c.SYS_DLQ, min=str(since_ms), max="+"))
    behind, trimmed = {}, []
    for stream in c.ALL_STREAMS:
        for g in await _groups(redis, stream):
            name = f"{stream}/{g['name']}"
            if "lag" in g and g["lag"] is None:
                trimmed.append(name)
            elif n := int(g.get("lag") or 0) + int(g["pending"]):
                behind[name] = n
    ctx.figures.update(messages_lost=dead + len(trimmed), dead_letters=dead)
    detail = (f"dead letters {dead}; consumer groups behind: {behind or 'none'}; trimmed before a group read "
              f"them: {trimmed or 'none'}")
    return (-1 if behind else dead + len(trimmed)), detail


async def _groups(redis, stream: str) -> list[dict]:
    """XINFO GROUPS of `stream`, keys and text decoded; none when the stream does not exist."""
    try:
        rows = await redis.xinfo_groups(stream)
    except ResponseError:  # no such key
        return []
    return [{_text(k): _text(v) for k, v in row.items()} for row in rows]


def _text(v):
    return v.decode() if isinstance(v, bytes) else v
