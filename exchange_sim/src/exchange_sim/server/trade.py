"""Order endpoints: /v5/order/{create, create-batch, amend, cancel, cancel-all, realtime, history}."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import msgspec
from aiohttp import web
from common.bybit import constants as k
from common.bybit.enums import OrderFilter, OrderStatus, OrderType, Side, TimeInForce, TriggerBy
from common.bybit.errors import BybitError
from common.bybit.schemas.envelope import Paged
from common.bybit.schemas.order import (
    AmendOrderParams,
    BatchCode,
    BatchExtInfo,
    BatchOrderId,
    BatchPlaceParams,
    BatchPlaceResult,
    CancelAllParams,
    CancelAllResult,
    CancelOrderParams,
    OrderId,
    PlaceOrderParams,
)

from exchange_sim.server import paging, render
from exchange_sim.server import params as p
from exchange_sim.server.rest import HOLD_S, Extended, Reply, Route

if TYPE_CHECKING:
    from exchange_sim.engine.records import Order
    from exchange_sim.server.sim import Sim


MAX_BATCH = 20  # linear orders per create-batch (https://bybit-exchange.github.io/docs/v5/order/batch-place)


def _place(sim: Sim, b: PlaceOrderParams) -> Order:
    """One order, checked and placed as create places it; BybitError for its retCode."""
    p.category(b.category)
    symbol = p.symbol(sim, b.symbol)
    side = p.choice("side", b.side, (Side.BUY, Side.SELL))
    order_type = p.choice("orderType", b.orderType, (OrderType.MARKET, OrderType.LIMIT))
    default_tif = TimeInForce.IOC if order_type == OrderType.MARKET else TimeInForce.GTC
    tif = p.choice("timeInForce", b.timeInForce or default_tif, tuple(TimeInForce))
    if sim.faults.reject_orders:
        raise BybitError(sim.faults.reject_orders, "order rejected (simulator fault)")
    request = dict(
        symbol=symbol, side=side, order_type=order_type, qty=p.decimal("qty", b.qty, required=True),
        price=p.decimal("price", b.price, required=order_type == OrderType.LIMIT), time_in_force=tif,
        reduce_only=bool(b.reduceOnly), close_on_trigger=bool(b.closeOnTrigger),
        order_link_id=b.orderLinkId or "",
        take_profit=p.decimal("takeProfit", b.takeProfit), stop_loss=p.decimal("stopLoss", b.stopLoss),
        tp_trigger_by=b.tpTriggerBy or TriggerBy.LAST_PRICE,
        sl_trigger_by=b.slTriggerBy or TriggerBy.LAST_PRICE, position_idx=b.positionIdx, now_ms=sim.now_ms())
    trigger = p.decimal("triggerPrice", b.triggerPrice)
    if trigger:  # a conditional order (create-order: triggerPrice, triggerDirection, triggerBy)
        return sim.exchange.place_conditional(trigger_price=trigger, trigger_direction=b.triggerDirection or 0,
                                              trigger_by=b.triggerBy or TriggerBy.LAST_PRICE, **request)
    return sim.exchange.place_order(**request)


async def _answer_placed(sim: Sim) -> None:
    """After placing: push the private updates; the ambiguous-submit fault then drops the reply."""
    sim.flush_private()
    if sim.faults.ambiguous_submit == "5xx":
        raise Reply(web.Response(status=502, text="502 Bad Gateway"))
    if sim.faults.ambiguous_submit == "timeout":
        await asyncio.sleep(HOLD_S)
        raise Reply(web.Response(status=504))


async def create(sim: Sim, b: PlaceOrderParams) -> OrderId:
    order = _place(sim, b)
    await _answer_placed(sim)
    return OrderId(orderId=order.order_id, orderLinkId=order.order_link_id)


def _batch_orders(b: BatchPlaceParams) -> int:
    """create-batch's rate-limit weight: its orders (1 to MAX_BATCH, else the request is refused)."""
    if not 1 <= len(b.request) <= MAX_BATCH:
        raise BybitError(k.PARAMS_ERROR, f"params error: request must hold 1 to {MAX_BATCH} orders, "
                                         f"not {len(b.request)}")
    return len(b.request)


async def create_batch(sim: Sim, b: BatchPlaceParams, *, granted: int) -> Extended:
    """Each order placed as create places it, in the request's order; one order's refusal is its own
    code in retExtInfo.list and an empty orderId, and the rest go on. Orders beyond what the rate-limit
    window granted fail with 10006."""
    p.category(b.category)
    ids, codes = [], []
    for n, item in enumerate(b.request):
        try:
            if n >= granted:
                raise BybitError(k.RATE_LIMITED, "Too many visits!")
            order = _place(sim, PlaceOrderParams(category=b.category, **msgspec.structs.asdict(item)))
        except BybitError as err:
            ids.append(BatchOrderId(category=b.category, symbol=item.symbol, orderLinkId=item.orderLinkId or ""))
            codes.append(BatchCode(code=err.code, msg=err.message))
        else:
            ids.append(BatchOrderId(category=b.category, symbol=order.symbol, orderId=order.order_id,
                                    orderLinkId=order.order_link_id, createAt=str(order.created_ms)))
            codes.append(BatchCode(code=k.OK, msg="OK"))
    await _answer_placed(sim)
    return Extended(BatchPlaceResult(list=ids), BatchExtInfo(list=codes))


async def amend(sim: Sim, b: AmendOrderParams) -> OrderId:
    p.category(b.category)
    order = sim.exchange.amend_order(
        symbol=p.symbol(sim, b.symbol), order_id=b.orderId or None, order_link_id=b.orderLinkId or None,
        qty=p.decimal("qty", b.qty), price=p.decimal("price", b.price),
        take_profit=p.decimal("takeProfit", b.takeProfit), stop_loss=p.decimal("stopLoss", b.stopLoss),
        now_ms=sim.now_ms())
    sim.flush_private()
    return OrderId(orderId=order.order_id, orderLinkId=order.order_link_id)


async def cancel(sim: Sim, b: CancelOrderParams) -> OrderId:
    p.category(b.category)
    order = sim.exchange.cancel_order(symbol=p.symbol(sim, b.symbol), order_id=b.orderId or None,
                                      order_link_id=b.orderLinkId or None, now_ms=sim.now_ms())
    sim.flush_private()
    return OrderId(orderId=order.order_id, orderLinkId=order.order_link_id)


async def cancel_all(sim: Sim, b: CancelAllParams) -> CancelAllResult:
    p.category(b.category)
    symbol = p.symbol_or_settle(sim, b.symbol, b.settleCoin)
    order_filter = p.choice("orderFilter", b.orderFilter or "", ("", *OrderFilter))
    orders = sim.exchange.cancel_all(symbol=symbol, order_filter=order_filter, now_ms=sim.now_ms())
    sim.flush_private()
    return CancelAllResult(list=[OrderId(orderId=o.order_id, orderLinkId=o.order_link_id) for o in orders])


def _filtered(orders: list, q: dict[str, str]) -> list:
    """orderFilter (Order: ordinary orders, StopOrder: conditional ones, unset: both) and orderStatus."""
    kind = p.choice("orderFilter", q.get("orderFilter") or "", ("", *OrderFilter))
    status = q.get("orderStatus") or ""
    if status:
        p.choice("orderStatus", status, tuple(OrderStatus))
    return [o for o in orders if (not status or o.order_status == status)
            and (not kind or (kind == OrderFilter.STOP_ORDER) == bool(o.stop_order_type))]


async def realtime(sim: Sim, q: dict[str, str]) -> Paged:
    """Open orders, newest first, paged; asked by orderId/orderLinkId it also finds a recently closed
    order at once (https://bybit-exchange.github.io/docs/v5/order/open-order: "also supports querying
    recent 500 closed status (Cancelled, Filled) orders")."""
    if not p.lists_category(q.get("category")):
        return Paged(list=[], category=q["category"])
    ids = {"order_id": q.get("orderId") or None, "order_link_id": q.get("orderLinkId") or None}
    symbol = p.symbol(sim, q.get("symbol"), required=False)
    if symbol is None and not any(ids.values()):
        symbol = p.symbol_or_settle(sim, None, q.get("settleCoin"))
    orders = _filtered(sim.exchange.open_orders(symbol=symbol, **ids), q)
    rows, cursor = paging.page(orders, q, limits=paging.OPEN_ORDERS, key=lambda o: o.order_id)
    return Paged(list=[render.order(o) for o in rows], nextPageCursor=cursor)


async def history(sim: Sim, q: dict[str, str]) -> Paged:
    """Orders as the lagging history shows them (see server/history.py), newest first, paged, filtered by
    symbol, orderId, orderLinkId, orderFilter and orderStatus
    (https://bybit-exchange.github.io/docs/v5/order/order-list)."""
    if not p.lists_category(q.get("category")):
        return Paged(list=[], category=q["category"])
    symbol = p.symbol(sim, q.get("symbol"), required=False)
    order_id, link = q.get("orderId") or None, q.get("orderLinkId") or None
    orders = [o for o in sim.history.orders(now_ms=sim.now_ms())
              if (not symbol or o.symbol == symbol) and (not order_id or o.order_id == order_id)
              and (not link or o.order_link_id == link)]
    rows, cursor = paging.page(_filtered(orders, q), q, limits=paging.ORDER_HISTORY, key=lambda o: o.order_id)
    return Paged(list=[render.order(o) for o in rows], nextPageCursor=cursor)


# This module's part of the REST surface; app.py assembles the modules' tables.
ROUTES = (
    Route("POST", "/v5/order/create", create, auth=True, params=PlaceOrderParams),
    Route("POST", "/v5/order/create-batch", create_batch, auth=True, params=BatchPlaceParams,
          weight=_batch_orders),
    Route("POST", "/v5/order/amend", amend, auth=True, params=AmendOrderParams),
    Route("POST", "/v5/order/cancel", cancel, auth=True, params=CancelOrderParams),
    Route("POST", "/v5/order/cancel-all", cancel_all, auth=True, params=CancelAllParams),
    Route("GET", "/v5/order/realtime", realtime, auth=True),
    Route("GET", "/v5/order/history", history, auth=True),
)
