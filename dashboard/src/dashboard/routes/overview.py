"""The overview page (/): five services GREEN / YELLOW / RED, mode, safe mode, live over SSE; P&L today.

Its JSON lives under /api (/api/health, /api/health/stream, /api/pnl/today): the public URLs predate the
page's own prefix, so the API router's prefix is /api."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from dashboard import api_models as models
from dashboard import daily_pnl, platform_state
from dashboard.deps import AlertsDep, MonitorDep, RuntimeDep, UserDep
from dashboard.sse import EventStream, sse
from dashboard.responses import render

page = APIRouter(prefix="", tags=["overview"])
api = APIRouter(prefix="/api", tags=["overview"])
SSE_KEEPALIVE_S = 2.0


async def _health(monitor, alerts, rt) -> dict:
    """The monitor's snapshot with the alert badge and operator safe mode."""
    return {
        **monitor.snapshot(),
        "alerts_unacked": alerts.unacked(),
        "operator_safe_mode": await platform_state.operator_safe_mode(rt.bus.redis),
    }


@page.get("/", response_class=HTMLResponse)
async def overview(request: Request, user: UserDep, monitor: MonitorDep, alerts: AlertsDep, rt: RuntimeDep):
    """The overview page."""
    return render(request, "overview.html", user=user, health=await _health(monitor, alerts, rt),
                  pnl=await daily_pnl.today(rt.bus.redis))


@api.get("/health", response_model=models.Health)
async def health(monitor: MonitorDep, alerts: AlertsDep, rt: RuntimeDep) -> dict:
    """Every service GREEN / YELLOW / RED with its facts, the mode, safe mode and the alert badge."""
    return await _health(monitor, alerts, rt)


@api.get("/health/stream", response_class=EventStream)
async def health_stream(request: Request, monitor: MonitorDep, alerts: AlertsDep, rt: RuntimeDep):
    """Server-sent events: the health snapshot on every change, and at least every 2 s."""
    return sse(
        request, lambda: _health(monitor, alerts, rt), every_s=SSE_KEEPALIVE_S, changed=monitor.changed
    )


@api.get("/pnl/today", response_model=models.PnlToday | models.NoPnlToday)
async def pnl_today(rt: RuntimeDep) -> dict:
    """Realised P&L since 00:00 UTC (net of fees) per symbol and in total, or why there is none."""
    return await daily_pnl.today(rt.bus.redis)
