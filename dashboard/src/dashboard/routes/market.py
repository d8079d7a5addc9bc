"""The market page (/market): per symbol price, spread, feed latency and staleness (formatted for people,
the raw summary one click away), charted live over SSE."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from common import constants as c
from dashboard import market_view, platform_state
from dashboard import trading_models as trading
from dashboard.deps import RuntimeDep, UserDep
from dashboard.sse import EventStream, sse
from dashboard.responses import render

page = APIRouter(prefix="/market", tags=["market"])
api = APIRouter(prefix="/api/market", tags=["market"])
STREAM_EVERY_S = 1.0


@page.get("", response_class=HTMLResponse)
async def market_page(request: Request, user: UserDep, rt: RuntimeDep):
    """Per symbol price, spread, feed latency and staleness."""
    return render(request, "market.html", user=user, **await market(rt))


@api.get("", response_model=trading.MarketView)
async def market(rt: RuntimeDep) -> dict:
    """The market service's per-symbol summary, raw and formatted (`display`)."""
    return market_view.view(await platform_state.json_hash(rt.bus.redis, c.MARKET_SUMMARY_KEY))


@api.get("/stream", response_class=EventStream)
async def market_stream(request: Request, rt: RuntimeDep):
    """Server-sent events: the market summary every second (the page charts it over time)."""
    return sse(request, lambda: market(rt), every_s=STREAM_EVERY_S)
