"""Executions (fills): GET /v5/execution/list and the private `execution` topic."""

from __future__ import annotations

from common.bybit.enums import Category
import msgspec

from common.schemas.execution import FillEvent

MS = 1_000_000  # ns per ms


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

    def to_fill_event(self, *, ts_ns: int) -> FillEvent:
        """The `exec.events` message of this fill."""
        return FillEvent(
            exec_id=self.execId, order_link_id=self.orderLinkId, order_id=self.orderId, symbol=self.symbol,
            side=self.side, price=self.execPrice, qty=self.execQty, fee=self.execFee, is_maker=self.isMaker,
            exchange_ts_ns=int(self.execTime or 0) * MS, ts_ns=ts_ns)
