"""Executions (fills): GET /v5/execution/list and the private `execution` topic."""

from __future__ import annotations

from common.bybit.enums import Category
import msgspec


class Execution(msgspec.Struct, kw_only=True):
    execId: str
    orderId: str
    orderLinkId: str
    symbol: str
    side: str
    execPrice: str
    execQty: str
    execValue: str
    execFee: str
    feeRate: str
    isMaker: bool
    execType: str  # Trade | Funding | BustTrade ...
    execTime: str  # ms
    orderType: str = ""
    orderPrice: str = ""
    orderQty: str = ""
    leavesQty: str = ""
    stopOrderType: str = ""
    category: str = Category.LINEAR
