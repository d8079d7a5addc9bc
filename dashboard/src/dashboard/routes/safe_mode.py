"""The safe mode page (/safe-mode): the execution state, each recovery plan step by step, and the buttons.

Its JSON lives under /api (/api/safe-mode, /api/safe-mode/{switch}, /api/reconcile): the reconcile URL
predates the page's prefix, so the API router's prefix is /api."""

from __future__ import annotations

from typing import Literal

from common.control import send_control
from common.schemas import Command
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from common import constants as c
from dashboard import action_models as actions
from dashboard import api_models as models
from dashboard import platform_state
from dashboard.deps import AdminDep, RuntimeDep, UserDep
from dashboard.responses import after_action, render

page = APIRouter(prefix="/safe-mode", tags=["safe mode"])
api = APIRouter(prefix="/api", tags=["safe mode"])


async def _safe_mode(rt) -> dict:
    """Operator safe mode, execution's state, what a reconciliation would wait for, the recovery plans."""
    redis = rt.bus.redis
    execution = await platform_state.execution_state(redis)
    return {
        "operator_safe_mode": await platform_state.operator_safe_mode(redis),
        "execution": execution,
        "reconcile_waits": reconcile_waits((execution or {}).get("holds") or {}),
        "recovery_plans": await platform_state.recovery_plans(redis),
    }


@page.get("", response_class=HTMLResponse)
async def safe_mode_page(request: Request, user: UserDep, rt: RuntimeDep):
    """The safe mode and recovery page."""
    return render(request, "safe_mode.html", user=user, **await _safe_mode(rt))


@api.get("/safe-mode", response_model=models.SafeMode)
async def safe_mode(rt: RuntimeDep) -> dict:
    """Operator safe mode, the execution state (NORMAL / SAFE / RECOVERING) and the recovery plans."""
    return await _safe_mode(rt)


@api.post("/safe-mode/{switch}", response_model=actions.CommandSent, responses=models.refusals(403))
async def set_safe_mode(request: Request, switch: Literal["on", "off"], user: AdminDep, rt: RuntimeDep):
    """Enter or leave safe mode on every service (admin); the same command as `scalperctl safe-mode`."""
    command = Command.SAFE_MODE_ON if switch == "on" else Command.SAFE_MODE_OFF
    return await _send(request, user=user, rt=rt, command=command, target="*")


@api.post("/reconcile", response_model=actions.CommandSent, responses=models.refusals(403))
async def reconcile(request: Request, user: AdminDep, rt: RuntimeDep):
    """Ask execution for a reconciliation (admin), as `scalperctl reconcile`; it waits while a hold lasts."""
    holds = ((await platform_state.execution_state(rt.bus.redis)) or {}).get("holds") or {}
    return await _send(
        request, user=user, rt=rt, command=Command.RECONCILE, target=c.EXECUTION, note=reconcile_waits(holds)
    )


def reconcile_waits(holds: dict[str, str]) -> str:
    """What an operator is told when execution holds SAFE: its recovery does not start until released."""
    if not holds:
        return ""
    return (f"safe mode holds execution ({'; '.join(holds.values())}): the reconciliation waits until "
            "safe mode is released, then runs")


async def _send(request: Request, *, user, rt, command: Command, target: str, note: str = ""):
    """Publish `command` on sys.control, audit it, and answer (back to the page, or JSON)."""
    entry = await send_control(
        rt.bus.redis, command=command, target=target, issued_by=f"dashboard:{user.name}"
    )
    request.app.state.audit.record(
        user=user.name,
        action=command.value,
        client=request.client.host,
        outcome="ok",
        detail=f"target {target}, entry {entry}" + (f"; {note}" if note else ""),
    )
    result = {"command": command.value, "target": target, "entry_id": entry}
    return after_action(request, back="/safe-mode", result=result | ({"note": note} if note else {}))
