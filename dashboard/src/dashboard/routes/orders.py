"""Manual orders from the dashboard: the same OrderIntent on exec.intents that `scalperctl order` sends."""

from __future__ import annotations

from typing import Annotated

from common.manual_order import ManualOrderError, manual_intent, send_manual_order
from fastapi import APIRouter, Form, HTTPException, Request

from dashboard import api_models as api
from dashboard.deps import AdminDep, RuntimeDep
from dashboard.pages import after_action

router = APIRouter(tags=["orders"])
Price = Annotated[str | None, Form(max_length=40)]


@router.post("/api/orders", response_model=api.OrderSent, responses=api.refusals(400, 403))
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
