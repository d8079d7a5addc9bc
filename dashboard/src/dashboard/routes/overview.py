"""The overview: five services GREEN / YELLOW / RED, mode, safe mode, live over SSE; P&L today; logout."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from dashboard import api_models as api
from dashboard import pnl, state
from dashboard.auth import SESSION_COOKIE
from dashboard.deps import ActingDep, AlertsDep, MonitorDep, RuntimeDep, UserDep
from dashboard.live import EventStream, sse
from dashboard.pages import render

router = APIRouter(tags=["overview"])
SSE_KEEPALIVE_S = 2.0


async def _health(monitor, alerts, rt) -> dict:
    return {
        **monitor.snapshot(),
        "alerts_unacked": alerts.unacked(),
        "operator_safe_mode": await state.operator_safe_mode(rt.bus.redis),
    }


@router.get("/", response_class=HTMLResponse)
async def overview(request: Request, user: UserDep, monitor: MonitorDep, alerts: AlertsDep, rt: RuntimeDep):
    """The overview page."""
    return render(
        request,
        "overview.html",
        user=user,
        health=await _health(monitor, alerts, rt),
        pnl=await pnl.today(rt.bus.redis),
    )


@router.get("/api/health", response_model=api.Health)
async def health(monitor: MonitorDep, alerts: AlertsDep, rt: RuntimeDep) -> dict:
    """Every service GREEN / YELLOW / RED with its facts, the mode, safe mode and the alert badge."""
    return await _health(monitor, alerts, rt)


@router.get("/api/pnl/today", response_model=api.PnlToday | api.NoPnlToday)
async def pnl_today(rt: RuntimeDep) -> dict:
    """Realised P&L since 00:00 UTC (net of fees) per symbol and in total, or why there is none."""
    return await pnl.today(rt.bus.redis)


@router.get("/api/health/stream", response_class=EventStream)
async def health_stream(request: Request, monitor: MonitorDep, alerts: AlertsDep, rt: RuntimeDep):
    """Server-sent events: the health snapshot on every change, and at least every 2 s."""
    return sse(
        request, lambda: _health(monitor, alerts, rt), every_s=SSE_KEEPALIVE_S, changed=monitor.changed
    )


@router.post("/logout", include_in_schema=False)
def logout(request: Request, user: ActingDep) -> RedirectResponse:
    """End the session (the signed cookie is dropped; it also expires by itself)."""
    request.app.state.audit.record(user=user.name, action="logout", client=request.client.host, outcome="ok")
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response
