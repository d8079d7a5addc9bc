"""The overview page (/): is all well, and am I making money? Mode, cluster status, safe mode and why,
execution's state; the wallet's equity against the daily-loss limit and the kill switch; today's P&L;
open positions and how far their TP and SL are; the last trades, unacknowledged alerts, the last backup
and the last deploy.
The services' health live over SSE, the rest polled from /api/overview.

Its JSON lives under /api (/api/overview, /api/health, /api/health/stream, /api/pnl/today): the public
URLs predate the page's own prefix, so the API router's prefix is /api."""

from __future__ import annotations

import time

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from dashboard import account_view, daily_pnl, deploy_view, platform_state, round_trips, running_versions
from dashboard import api_models as models
from dashboard import trading_models as trading
from dashboard.deps import AlertsDep, MonitorDep, RuntimeDep, UserDep
from dashboard.sse import EventStream, sse
from dashboard.responses import render

page = APIRouter(prefix="", tags=["overview"])
api = APIRouter(prefix="/api", tags=["overview"])
SSE_KEEPALIVE_S = 2.0
TRADES_SHOWN, ALERTS_SHOWN = 5, 5
TRADES_LOOKBACK_MS = 86_400_000  # the overview's last trades: those closed in the last 24 h


async def _health(monitor, alerts, rt) -> dict:
    """The monitor's snapshot with the header's badges (alerts, release) and operator safe mode."""
    return {
        **monitor.snapshot(),
        "alerts_unacked": alerts.unacked(),
        "operator_safe_mode": await platform_state.operator_safe_mode(rt.bus.redis),
        "release": running_versions.cluster(monitor),
    }


async def _overview(monitor, alerts, rt) -> dict:
    """The overview's figures: each read from where its service keeps it."""
    redis, now_ms = rt.bus.redis, int(time.time() * 1000)
    positions = await account_view.positions(redis)
    trips = await round_trips.from_stream(redis, since_ms=now_ms - TRADES_LOOKBACK_MS)
    return {
        "health": await _health(monitor, alerts, rt),
        "execution": await platform_state.execution_state(redis),
        "equity": await account_view.equity(redis, limit_pct=rt.settings.exec_daily_loss_limit_pct),
        "pnl": daily_pnl.figures(await daily_pnl.today(redis), positions),
        "positions": positions,
        "trades": trips[:TRADES_SHOWN],
        "alerts": alerts.listing(unacked_only=True)[:ALERTS_SHOWN],
        "backup": await account_view.last_backup(redis),
        "deploy": deploy_view.last_deploy(rt.settings),
    }


@page.get("/", response_class=HTMLResponse)
async def overview(request: Request, user: UserDep, monitor: MonitorDep, alerts: AlertsDep, rt: RuntimeDep):
    """The overview page."""
    return render(request, "overview.html", user=user, **await _overview(monitor, alerts, rt))


@api.get("/overview", response_model=trading.Overview)
async def overview_figures(monitor: MonitorDep, alerts: AlertsDep, rt: RuntimeDep) -> dict:
    """Everything the overview shows, raw and formatted (`display`)."""
    return await _overview(monitor, alerts, rt)


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
