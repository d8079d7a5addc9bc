"""The signals page (/signals): the latest signals with score, components and reasons."""

from __future__ import annotations

import msgspec
from common.schemas import Signal, decode
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from common import constants as c
from dashboard import api_models as models
from dashboard.deps import RuntimeDep, UserDep
from dashboard.responses import render

page = APIRouter(prefix="/signals", tags=["signals"])
api = APIRouter(prefix="/api/signals", tags=["signals"])
RECENT = 50


async def _signals(rt) -> list[dict]:
    """The last RECENT signals on strategy.signals, newest first; an entry that does not decode is skipped."""
    out = []
    for _, fields in await rt.bus.redis.xrevrange(c.STRATEGY_SIGNALS, count=RECENT):
        try:
            msg = decode(fields[c.PAYLOAD_FIELD])
        except (KeyError, msgspec.DecodeError):
            continue
        if isinstance(msg, Signal):
            out.append(msgspec.to_builtins(msg))
    return out


@page.get("", response_class=HTMLResponse)
async def signals_page(request: Request, user: UserDep, rt: RuntimeDep):
    """The latest signals with score, components and reasons."""
    return render(request, "signals.html", user=user, signals=await _signals(rt))


@api.get("", response_model=models.Signals)
async def signals(rt: RuntimeDep) -> dict:
    """The latest signals on strategy.signals, newest first."""
    return {"signals": await _signals(rt)}
