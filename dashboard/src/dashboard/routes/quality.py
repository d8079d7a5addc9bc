"""The execution quality page (/quality): lifetime fills, fill ratio, maker share, fees and slippage per
symbol, and the same per 5-minute bucket over 24 h for its charts."""

from __future__ import annotations

import time

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from dashboard import api_models as models
from dashboard import platform_state
from dashboard.deps import RuntimeDep, UserDep
from dashboard.responses import render

page = APIRouter(prefix="/quality", tags=["quality"])
api = APIRouter(prefix="/api/quality", tags=["quality"])


@page.get("", response_class=HTMLResponse)
async def quality_page(request: Request, user: UserDep, rt: RuntimeDep):
    """Execution quality per symbol: lifetime fills, fill ratio, maker share, fees, slippage; 24 h charts."""
    return render(request, "quality.html", user=user, symbols=await platform_state.quality(rt.bus.redis))


@api.get("", response_model=models.Quality)
async def quality(rt: RuntimeDep) -> dict:
    """Lifetime execution-quality sums per symbol, with fill ratio, maker share, slippage and mean times."""
    return {"symbols": await platform_state.quality(rt.bus.redis)}


@api.get("/history", response_model=models.QualityHistory)
async def quality_history(rt: RuntimeDep) -> dict:
    """The same figures per 5-minute bucket over the last 24 h, per symbol (buckets without sums left out)."""
    return await platform_state.quality_history(rt.bus.redis, time.time())
