"""Production scenario 1 (DESIGN.md section 9): a full boot.

Under the systemd deployment (the dashboard's supervisor is systemd) it boots for real: the four other
services are stopped (`systemctl stop scalper-<name>.service`; the dashboard, which runs the scenario, stays
up), then `systemctl start scalper.target`; all five must be GREEN and the failover manager NORMAL after the
reconciliation it boots into (a recovery plan since the start, ended ok). Execution's recovery alert after
that plan, the platform's "ready", is reported when seen. Under `make run` there are no units to stop or
start: the steps say so and check the running platform (five GREEN, execution NORMAL after a plan ok).
Stopping the services is a fault, so under systemd it runs only in SIM.
"""

from __future__ import annotations

from common.config import ExecutionMode
from common.schemas import now_ns

from common import constants as c
from dashboard import platform_state
from dashboard.scenarios import checks
from dashboard.scenarios.steps import Context
from dashboard.scenarios.supervisor import unit
from dashboard.scenarios.units import systemctl

OTHERS = (c.MARKET, c.STRATEGY, c.EXECUTION, c.WORKER)
TARGET = "scalper.target"


def refusal(rt) -> str:
    """Stopping the platform is a fault: under systemd only in SIM. Under make run it only checks."""
    if rt.supervisor == "systemd" and rt.settings.execution_mode is not ExecutionMode.SIM:
        return "full-boot stops the platform's services under systemd: it runs only when EXECUTION_MODE is SIM"
    return ""


def _units(ctx: Context) -> bool:
    """This platform runs under systemd's units (else under make run's supervisor, or by hand)."""
    return ctx.rt.supervisor == "systemd"


async def stopped(ctx: Context) -> tuple[bool, str]:
    """Under systemd: the four other services stopped (once), then seen inactive and RED."""
    if not _units(ctx):
        return True, (f"make run (supervisor {ctx.rt.supervisor or 'none'}): no systemd units here, the "
                      "services stay up; the boot checked is the running platform's")
    units = [unit(s) for s in OTHERS]
    if "fault_ns" not in ctx.facts:
        ctx.facts["fault_ns"] = now_ns()
        await systemctl("stop", *units)
    states = (await systemctl("show", "-P", "ActiveState", *units)).split()
    rows = {s["name"]: s["status"] for s in ctx.monitor.snapshot()["services"]}
    detail = "systemctl stop " + " ".join(units) + ": " + ", ".join(
        f"{s} {state}, {rows[s]}" for s, state in zip(OTHERS, states, strict=True))
    return all(state == "inactive" for state in states) and all(rows[s] == "RED" for s in OTHERS), detail


async def started(ctx: Context) -> tuple[bool, str]:
    """Under systemd: `systemctl start scalper.target` (once); holds when the target is active."""
    if not _units(ctx):
        return True, "make run: nothing to start, the supervisor started the services"
    if not ctx.facts.get("target_started"):
        ctx.facts["boot_ns"] = now_ns()
        await systemctl("start", "--no-block", TARGET)
        ctx.facts["target_started"] = True
    state = await systemctl("show", "-P", "ActiveState", TARGET)
    return state == "active", f"systemctl start {TARGET}: {state}"


async def five_green(ctx: Context) -> tuple[bool, str]:
    """All five GREEN; under systemd, time to GREEN: the start of the target to the last service's GREEN."""
    ok, detail = await checks.all_green(ctx)
    if ok and "boot_ns" in ctx.facts:
        last = max(s["status_since_ns"] for s in ctx.monitor.snapshot()["services"])
        ctx.figures["green_s"] = round((last - ctx.facts["boot_ns"]) / 1e9, 3)
    return ok, detail


async def normal_after_reconciliation(ctx: Context) -> tuple[bool, str]:
    """Execution NORMAL after a recovery plan ended ok (since the boot under systemd; the newest one under make
    run), every service GREEN; execution's recovery alert reported when seen (the optional READY)."""
    if "fault_ns" in ctx.facts:
        ok, detail = await checks.normal(ctx)
    else:
        ok, detail = await checks.ready_to_trade(ctx)
        plans = await platform_state.recovery_plans(ctx.rt.bus.redis, limit=1)
        ok = ok and bool(plans) and plans[0].get("outcome") == "ok"
        detail += "; newest recovery plan: " + (f"{plans[0].get('trigger')} {plans[0].get('outcome')}"
                                                if plans else "none")
    since = ctx.facts.get("fault_ns", 0)
    ready = [a for a in ctx.alerts.listing() if a["key"] == c.EXEC_RECOVERY_ALERT and
             max(a["ts_ns"], a["last_ts_ns"]) >= since]
    return ok, detail + (f"; READY alert: {ready[0]['severity']} {ready[0]['title']}" if ready else
                         "; no READY alert (optional)")
