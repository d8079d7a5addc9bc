"""Bybit v5 REST endpoints for USDT perpetuals as plain-argument methods returning wire Structs."""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec

from common.bybit import constants as k
from common.bybit.enums import AccountType, Category, PositionIdx
from common.bybit.errors import BybitError, BybitNetworkError
from common.bybit.http import BybitHttp
from common.bybit.schemas.envelope import Empty, Paged, ServerTime
from common.bybit.schemas.execution import Execution
from common.bybit.schemas.instrument import InstrumentInfo
from common.bybit.schemas.kline import KlineResult
from common.bybit.schemas.order import (
    AmendOrderParams,
    BatchExtInfo,
    BatchPlaceParams,
    BatchPlaceResult,
    CancelAllParams,
    CancelAllResult,
    CancelOrderParams,
    Order,
    OrderId,
    OrderRequest,
    PlaceOrderParams,
)
from common.bybit.schemas.orderbook import Orderbook
from common.bybit.schemas.position import Position, SetLeverageParams, TradingStopParams
from common.bybit.schemas.ticker import Ticker
from common.bybit.schemas.trade import RecentTrade
from common.bybit.schemas.wallet import WalletResult

LINEAR = Category.LINEAR.value
SETTLE = "USDT"
# Bybit's maximum `limit` per page (each endpoint's page of https://bybit-exchange.github.io/docs/v5/):
# fewer requests for a long list; `paged` follows nextPageCursor whatever the page size.
OPEN_ORDERS_PAGE = 50
ORDER_HISTORY_PAGE = 50
POSITIONS_PAGE = 200
EXECUTIONS_PAGE = 100
MAX_PAGES = 100  # a bound on one listing: 5,000 orders, 10,000 executions
# orders per create-batch: Bybit's page says 20 linear orders now, its rate-limit rules still 1-10;
# 10 is valid under both
MAX_BATCH_ORDERS = 10
T = TypeVar("T")


class PositionModeError(Exception):
    """The account holds a symbol in hedge mode, which this platform does not trade."""


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

    async def place_orders(self, orders: list[PlaceOrderParams]) -> list[OrderId | BybitError]:
        """Up to MAX_BATCH_ORDERS linear orders in one create-batch: each one's ack or the BybitError that
        refused it, in order. A refusal of the whole request raises BybitError; no usable answer raises
        BybitNetworkError, ambiguous for every order in it."""
        request = [OrderRequest(**{f: v for f, v in msgspec.structs.asdict(o).items() if f != "category"})
                   for o in orders]
        result, ext = await self.http.post_batch(
            "/v5/order/create-batch", BatchPlaceParams(category=LINEAR, request=request), BatchPlaceResult,
            BatchExtInfo, orders=len(orders), priority=any(o.reduceOnly for o in orders))
        if not len(result.list) == len(ext.list) == len(orders):
            raise BybitNetworkError(f"create-batch of {len(orders)} answered {len(result.list)} orders and "
                                    f"{len(ext.list)} codes", ambiguous=True)
        return [OrderId(orderId=r.orderId, orderLinkId=r.orderLinkId) if c.code == k.OK else BybitError(c.code, c.msg)
                for r, c in zip(result.list, ext.list, strict=True)]

    async def amend_order(self, params: AmendOrderParams) -> OrderId:
        return await self.http.post("/v5/order/amend", params, OrderId)

    async def cancel_order(self, params: CancelOrderParams) -> OrderId:
        return await self.http.post("/v5/order/cancel", params, OrderId)

    async def cancel_all(self, *, symbol: str | None = None) -> list[OrderId]:
        params = CancelAllParams(category=LINEAR, symbol=symbol, settleCoin=None if symbol else SETTLE)
        return (await self.http.post("/v5/order/cancel-all", params, CancelAllResult)).list

    async def paged(self, path: str, query: dict[str, Any], item: type[T], *, limit: int,
                    max_pages: int = MAX_PAGES) -> list[T]:
        """Every row of a list endpoint: pages of `limit`, following nextPageCursor (sent back as
        received) until Bybit sends none. Raises OverflowError past `max_pages`, never a silent cut."""
        rows: list[T] = []
        cursor = None
        for _ in range(max_pages):
            page = await self.http.get(path, {**query, "limit": limit}, Paged[item], cursor=cursor)
            rows += page.list
            if not page.nextPageCursor or not page.list:
                return rows
            cursor = page.nextPageCursor
        raise OverflowError(f"{path}: more than {max_pages} pages of {limit}")

    async def open_orders(self, *, symbol: str | None = None,
                          order_link_id: str | None = None) -> list[Order]:
        """Every open order (all pages); by orderLinkId it also finds the order if it closed recently."""
        q = {"category": LINEAR, "symbol": symbol, "orderLinkId": order_link_id,
             "settleCoin": None if symbol else SETTLE}
        return await self.paged("/v5/order/realtime", q, Order, limit=OPEN_ORDERS_PAGE)

    async def order_history(self, *, symbol: str | None = None, order_link_id: str | None = None,
                            limit: int = ORDER_HISTORY_PAGE) -> list[Order]:
        """The most recent `limit` orders of the history, which lags behind the live state."""
        q = {"category": LINEAR, "symbol": symbol, "orderLinkId": order_link_id, "limit": limit}
        return (await self.http.get("/v5/order/history", q, Paged[Order])).list

    async def order_by_link(self, *, symbol: str, order_link_id: str) -> Order | None:
        """The order with this orderLinkId, open or closed: the realtime query first (it also finds recently
        closed orders at once), then the history (older orders; it lags behind). None: neither has it."""
        found = await self.open_orders(symbol=symbol, order_link_id=order_link_id)
        if not found:
            found = await self.order_history(symbol=symbol, order_link_id=order_link_id, limit=1)
        return found[0] if found else None

    # --- position ---
    async def positions(self, *, symbol: str | None = None) -> list[Position]:
        """Every position of the symbol, or (no symbol) every non-flat position settled in USDT."""
        q = {"category": LINEAR, "symbol": symbol, "settleCoin": None if symbol else SETTLE}
        return await self.paged("/v5/position/list", q, Position, limit=POSITIONS_PAGE)

    async def check_one_way(self, *, probe: str, held: list[Position]) -> None:
        """Raise PositionModeError unless the account trades one-way: Bybit lists a hedge-mode symbol as
        records with positionIdx 1 and 2 (https://bybit-exchange.github.io/docs/v5/enum#positionidx).
        `held` are positions already fetched; `probe` is a symbol asked for directly, so an account
        switched to hedge mode while flat is caught too."""
        rows = [*held, *await self.positions(symbol=probe)]
        hedged = sorted({p.symbol for p in rows if p.positionIdx != PositionIdx.ONE_WAY})
        if hedged:
            raise PositionModeError(f"{', '.join(hedged)} in hedge mode; this platform trades one-way positions "
                                    "only: switch to one-way mode (Bybit: Derivatives settings, or POST "
                                    "/v5/position/switch-mode with mode=0)")

    async def set_leverage(self, *, symbol: str, leverage: str) -> None:
        params = SetLeverageParams(category=LINEAR, symbol=symbol, buyLeverage=leverage,
                                   sellLeverage=leverage)
        await self.http.post("/v5/position/set-leverage", params, Empty)

    async def trading_stop(self, params: TradingStopParams) -> None:
        await self.http.post("/v5/position/trading-stop", params, Empty)

    # --- account ---
    async def executions(self, *, symbol: str | None = None, limit: int = 50) -> list[Execution]:
        """The most recent `limit` executions (one page; at most 100)."""
        q = {"category": LINEAR, "symbol": symbol, "limit": limit}
        return (await self.http.get("/v5/execution/list", q, Paged[Execution])).list

    async def executions_since(self, start_ms: int) -> list[Execution]:
        """Every execution from `start_ms` on (Bybit: within 7 days of it), all pages."""
        q = {"category": LINEAR, "startTime": start_ms}
        return await self.paged("/v5/execution/list", q, Execution, limit=EXECUTIONS_PAGE)

    async def wallet(self) -> WalletResult:
        query = {"accountType": AccountType.UNIFIED}
        return await self.http.get("/v5/account/wallet-balance", query, WalletResult)
