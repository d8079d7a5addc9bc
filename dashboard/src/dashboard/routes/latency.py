"""Latency: each service's histograms (bus handlers hop by hop, feed latency, order stages)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from dashboard.deps import SettingsDep, UserDep
from dashboard.latency import scrape
from dashboard.pages import render

router = APIRouter(tags=["latency"])


@router.get("/latency", response_class=HTMLResponse)
async def latency_page(request: Request, user: UserDep, settings: SettingsDep):
    """p50/p90/p99 of every latency histogram each service exposes."""
    return render(request, "latency.html", user=user, services=await scrape(settings))


@router.get("/api/latency")
async def latency(settings: SettingsDep) -> dict:
    """Per service: its histograms with count and p50/p90/p99 (bucket upper bounds), or why there are none."""
    return {"services": await scrape(settings)}
