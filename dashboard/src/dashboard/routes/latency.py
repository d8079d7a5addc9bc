"""Latency: each service's histograms (bus handlers hop by hop, feed latency, order stages)."""

from __future__ import annotations

from common.config import Settings
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from dashboard import api_models as api
from dashboard.deps import SettingsDep, UserDep
from dashboard.latency import scrape, tick_to_order
from dashboard.pages import render

router = APIRouter(tags=["latency"])


async def _latency(settings: Settings) -> dict:
    services = await scrape(settings)
    return {"services": services, "tick_to_order": tick_to_order(services)}


@router.get("/latency", response_class=HTMLResponse)
async def latency_page(request: Request, user: UserDep, settings: SettingsDep):
    """Tick-to-order first, then p50/p90/p99 and distribution of every latency histogram of each service."""
    return render(request, "latency.html", user=user, **await _latency(settings))


@router.get("/api/latency", response_model=api.Latency)
async def latency(settings: SettingsDep) -> dict:
    """Per service: its histograms with count, p50/p90/p99 (bucket upper bounds) and samples per bucket,
    or why there are none; and execution's tick-to-order series on its own (null before any)."""
    return await _latency(settings)
