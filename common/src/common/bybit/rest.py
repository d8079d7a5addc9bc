"""Bybit v5 REST endpoints for USDT perpetuals as plain-argument methods returning wire Structs."""

from __future__ import annotations

from common.bybit.enums import AccountType, Category
from common.bybit.http import BybitHttp
from common.bybit.schemas.envelope import Empty, Paged, ServerTime
from common.bybit.schemas.execution import Execution
from common.bybit.schemas.instrument import InstrumentInfo
from common.bybit.schemas.kline import KlineResult
from common.bybit.schemas.order import (
    AmendOrderParams,
    CancelAllParams,
    CancelAllResult,
    CancelOrderParams,
    Order,
    OrderId,
    PlaceOrderParams,
)
from common.bybit.schemas.orderbook import Orderbook
from common.bybit.schemas.position import Position, SetLeverageParams, TradingStopParams
from common.bybit.schemas.ticker import Ticker
from common.bybit.schemas.trade import RecentTrade
from common.bybit.schemas.wallet import WalletResult

LINEAR = Category.LINEAR.value
SETTLE = "USDT"


class BybitRest:
    """Market, trade, position and account endpoints, one method per Bybit path."""

    def __init__(self, http: BybitHttp) -> None:
        self.http = http

    # --- market (public) ---
    async def server_time(self) -> ServerTime:
        return await self.http.get("/v5/market/time", {}, ServerTime, auth=False)

    async def instruments(self, *, symbol: str | None = None) -> list[InstrumentInfo]:
        q = {"category": LINEAR, "symbol": symbol}
        return (await self.http.get("/v5/market/instruments-info", q, Paged[InstrumentInfo], auth=False)).list

    async def tickers(self, *, symbol: str | None = None) -> list[Ticker]:
        q = {"category": LINEAR, "symbol": symbol}
        return (await self.http.get("/v5/market/tickers", q, Paged[Ticker], auth=False)).list

    async def orderbook(self, *, symbol: str, limit: int = 50) -> Orderbook:
        q = {"category": LINEAR, "symbol": symbol, "limit": limit}
        return await self.http.get("/v5/market/orderbook", q, Orderbook, auth=False)

    async def klines(self, *, symbol: str, interval: str = "1", limit: int = 200) -> KlineResult:
        q = {"category": LINEAR, "symbol": symbol, "interval": interval, "limit": limit}
        return await self.http.get("/v5/market/kline", q, KlineResult, auth=False)

    async def recent_trades(self, *, symbol: str, limit: int = 60) -> list[RecentTrade]:
        q = {"category": LINEAR, "symbol": symbol, "limit": limit}
        return (await self.http.get("/v5/market/recent-trade", q, Paged[RecentTrade], auth=False)).list

    # --- trade ---
    async def place_order(self, params: PlaceOrderParams) -> OrderId:
        """A reduce-only order (an exit) may use the rate-limit reserve that entries leave free."""
        return await self.http.post("/v5/order/create", params, OrderId, priority=bool(params.reduceOnly))

    async def amend_order(self, params: AmendOrderParams) -> OrderId:
        return await self.http.post("/v5/order/amend", params, OrderId)

    async def cancel_order(self, params: CancelOrderParams) -> OrderId:
        return await self.http.post("/v5/order/cancel", params, OrderId)

    async def cancel_all(self, *, symbol: str | None = None) -> list[OrderId]:
        params = CancelAllParams(category=LINEAR, symbol=symbol, settleCoin=None if symbol else SETTLE)
        return (await self.http.post("/v5/order/cancel-all", params, CancelAllResult)).list

    async def open_orders(self, *, symbol: str | None = None,
                          order_link_id: str | None = None) -> list[Order]:
        q = {"category": LINEAR, "symbol": symbol, "orderLinkId": order_link_id,
             "settleCoin": None if symbol else SETTLE}
        return (await self.http.get("/v5/order/realtime", q, Paged[Order])).list

    async def order_history(self, *, symbol: str | None = None, order_link_id: str | None = None,
                            limit: int = 50) -> list[Order]:
        q = {"category": LINEAR, "symbol": symbol, "orderLinkId": order_link_id, "limit": limit}
        return (await self.http.get("/v5/order/history", q, Paged[Order])).list

    # --- position ---
    async def positions(self, *, symbol: str | None = None) -> list[Position]:
        q = {"category": LINEAR, "symbol": symbol, "settleCoin": None if symbol else SETTLE}
        return (await self.http.get("/v5/position/list", q, Paged[Position])).list

    async def set_leverage(self, *, symbol: str, leverage: str) -> None:
        params = SetLeverageParams(category=LINEAR, symbol=symbol, buyLeverage=leverage,
                                   sellLeverage=leverage)
        await self.http.post("/v5/position/set-leverage", params, Empty)

    async def trading_stop(self, params: TradingStopParams) -> None:
        await self.http.post("/v5/position/trading-stop", params, Empty)

    # --- account ---
    async def executions(self, *, symbol: str | None = None, limit: int = 50) -> list[Execution]:
        q = {"category": LINEAR, "symbol": symbol, "limit": limit}
        return (await self.http.get("/v5/execution/list", q, Paged[Execution])).list

    async def executions_since(self, start_ms: int, *, max_pages: int = 100) -> list[Execution]:
        """Every execution from `start_ms` on (Bybit: within 7 days of it), following the cursor."""
        found, cursor = [], None
        for _ in range(max_pages):
            q = {"category": LINEAR, "startTime": start_ms, "limit": 100, "cursor": cursor}
            page = await self.http.get("/v5/execution/list", q, Paged[Execution])
            found += page.list
            if not page.nextPageCursor:
                break
            cursor = page.nextPageCursor
        return found

    async def wallet(self) -> WalletResult:
        query = {"accountType": AccountType.UNIFIED}
        return await self.http.get("/v5/account/wallet-balance", query, WalletResult)
