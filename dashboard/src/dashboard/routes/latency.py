"""The latency page (/latency): tick-to-order end to end and stage by stage first, then each service's
histograms (bus handlers hop by hop, feed latency, order stages)."""

from __future__ import annotations

from common.config import Settings
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from dashboard import api_models as models
from dashboard.deps import SettingsDep, UserDep
from dashboard.latency_histograms import chain, scrape, tick_to_order
from dashboard.responses import render

page = APIRouter(prefix="/latency", tags=["latency"])
api = APIRouter(prefix="/api/latency", tags=["latency"])


async def _latency(settings: Settings) -> dict:
    """Every service's scraped histograms, execution's tick-to-order series and its stages on their own."""
    services = await scrape(settings)
    return {"services": services, "tick_to_order": tick_to_order(services), "chain": chain(services)}


@page.get("", response_class=HTMLResponse)
async def latency_page(request: Request, user: UserDep, settings: SettingsDep):
    """Tick-to-order and its stages first, then p50/p90/p99 and distribution of every latency histogram of
    each service."""
    return render(request, "latency.html", user=user, **await _latency(settings))


@api.get("", response_model=models.Latency)
async def latency(settings: SettingsDep) -> dict:
    """Per service its histograms (count, p50/p90/p99, samples per bucket) or why none; tick-to-order and
    its stages too."""
    return await _latency(settings)
