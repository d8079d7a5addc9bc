"""The positions page (/positions): positions with their TP/SL and its distance, open orders (formatted,
each record one click away), and the manual order form, which sends the same OrderIntent on exec.intents
that `scalperctl order` sends.

Its JSON lives under /api (/api/positions, /api/orders): the order URL predates the page's prefix, so the
API router's prefix is /api."""

from __future__ import annotations

from typing import Annotated

from common.manual_order import ManualOrderError, manual_intent, send_manual_order
from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse

from common import constants as c
from dashboard import action_models as actions
from dashboard import api_models as models
from dashboard import account_view, platform_state
from dashboard import trading_models as trading
from dashboard.deps import AdminDep, RuntimeDep, UserDep
from dashboard.responses import after_action, render

page = APIRouter(prefix="/positions", tags=["positions"])
api = APIRouter(prefix="/api", tags=["positions"])
Price = Annotated[str | None, Form(max_length=40)]


async def _positions(rt) -> dict:
    """Execution's open positions and open orders, as it keeps them in Redis."""
    redis = rt.bus.redis
    return {
        "positions": await platform_state.json_hash(redis, c.EXEC_POSITIONS_KEY),
        "orders": await platform_state.json_hash(redis, c.EXEC_ORDERS_KEY),
    }


async def _view(rt) -> dict:
    """The positions and open orders as people read them (rounded, formatted, the raw record beside)."""
    redis = rt.bus.redis
    return {"positions": await account_view.positions(redis), "orders": await account_view.orders(redis)}


@page.get("", response_class=HTMLResponse)
async def positions_page(request: Request, user: UserDep, rt: RuntimeDep):
    """Positions (with their TP/SL) and open orders."""
    return render(request, "positions.html", user=user, **await _view(rt))


@api.get("/positions/view", response_model=trading.PositionsView)
async def positions_view(rt: RuntimeDep) -> dict:
    """Open positions and open orders formatted for people (`display`), each with its raw record."""
    return await _view(rt)


@api.get("/positions", response_model=models.Positions)
async def positions(rt: RuntimeDep) -> dict:
    """Open positions by symbol and open orders by orderLinkId, as the execution service keeps them."""
    return await _positions(rt)


@api.post("/orders", response_model=actions.OrderSent, responses=models.refusals(400, 403))
async def place_order(
    request: Request,
    user: AdminDep,
    rt: RuntimeDep,
    side: Annotated[str, Form(max_length=8)],
    symbol: Annotated[str, Form(max_length=40)],
    qty: Annotated[str, Form(max_length=40)],
    limit: Price = None,
    tp: Price = None,
    sl: Price = None,
    reduce_only: Annotated[bool, Form()] = False,
):
    """Send a manual order (admin): buy or sell QTY of SYMBOL at market, or at `limit`; optional TP and SL."""
    wanted = f"{side} {qty} {symbol} limit {limit or 'market'} tp {tp or '-'} sl {sl or '-'}"
    audit = request.app.state.audit
    try:
        intent = manual_intent(
            side=side, symbol=symbol, qty=qty, limit=limit, tp=tp, sl=sl, reduce_only=reduce_only
        )
        sent = await send_manual_order(rt.bus.redis, intent)
    except ManualOrderError as e:
        audit.record(user=user.name, action="manual order", client=request.client.host, outcome="refused",
                     detail=f"{wanted}: {e}")
        raise HTTPException(status_code=400, detail=str(e)) from None
    audit.record(user=user.name, action="manual order", client=request.client.host, outcome="ok",
                 detail=f"{wanted}, orderLinkId {sent['orderLinkId']}")
    return after_action(request, back="/positions", result=sent)
