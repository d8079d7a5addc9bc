"""What the platform holds and how it trades: positions with TP/SL, open orders, market, execution quality."""

from __future__ import annotations

import time

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from common import constants as c
from dashboard import api_models as api
from dashboard import state
from dashboard.deps import RuntimeDep, UserDep
from dashboard.live import EventStream, sse
from dashboard.pages import render

router = APIRouter(tags=["trading"])
MARKET_EVERY_S = 1.0


async def _positions(rt) -> dict:
    redis = rt.bus.redis
    return {
        "positions": await state.json_hash(redis, c.EXEC_POSITIONS_KEY),
        "orders": await state.json_hash(redis, c.EXEC_ORDERS_KEY),
    }


@router.get("/positions", response_class=HTMLResponse)
async def positions_page(request: Request, user: UserDep, rt: RuntimeDep):
    """Positions (with their TP/SL) and open orders."""
    return render(request, "positions.html", user=user, **await _positions(rt))


@router.get("/api/positions", response_model=api.Positions)
async def positions(rt: RuntimeDep) -> dict:
    """Open positions by symbol and open orders by orderLinkId, as the execution service keeps them."""
    return await _positions(rt)


@router.get("/market", response_class=HTMLResponse)
async def market_page(request: Request, user: UserDep, rt: RuntimeDep):
    """Per symbol price, spread, feed latency and staleness."""
    return render(
        request, "market.html", user=user, symbols=await state.json_hash(rt.bus.redis, c.MARKET_SUMMARY_KEY)
    )


@router.get("/api/market", response_model=api.Market)
async def market(rt: RuntimeDep) -> dict:
    """The market service's per-symbol summary."""
    return {"symbols": await state.json_hash(rt.bus.redis, c.MARKET_SUMMARY_KEY)}


@router.get("/api/market/stream", response_class=EventStream)
async def market_stream(request: Request, rt: RuntimeDep):
    """Server-sent events: the market summary every second (the page charts it over time)."""
    return sse(request, lambda: market(rt), every_s=MARKET_EVERY_S)


@router.get("/quality", response_class=HTMLResponse)
async def quality_page(request: Request, user: UserDep, rt: RuntimeDep):
    """Execution quality per symbol: lifetime fills, fill ratio, maker share, fees, slippage; 24 h charts."""
    return render(request, "quality.html", user=user, symbols=await state.quality(rt.bus.redis))


@router.get("/api/quality", response_model=api.Quality)
async def quality(rt: RuntimeDep) -> dict:
    """Lifetime execution-quality sums per symbol, with fill ratio, maker share, slippage and mean times."""
    return {"symbols": await state.quality(rt.bus.redis)}


@router.get("/api/quality/history", response_model=api.QualityHistory)
async def quality_history(rt: RuntimeDep) -> dict:
    """The same figures per 5-minute bucket over the last 24 h, per symbol (buckets without sums left out)."""
    return await state.quality_history(rt.bus.redis, time.time())
