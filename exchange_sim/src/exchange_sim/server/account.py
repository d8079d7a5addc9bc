"""Position, execution and wallet endpoints."""

from __future__ import annotations

from typing import TYPE_CHECKING

from common.bybit import constants as k
from common.bybit.enums import AccountType
from common.bybit.errors import BybitError
from common.bybit.schemas.envelope import Empty, Paged
from common.bybit.schemas.position import SetLeverageParams, TradingStopParams
from common.bybit.schemas.wallet import WalletResult

from exchange_sim.server import params as p
from exchange_sim.server import render
from exchange_sim.server.rest import Route

if TYPE_CHECKING:
    from exchange_sim.server.sim import Sim


async def positions(sim: Sim, q: dict[str, str]) -> Paged:
    p.category(q.get("category"))
    symbol = p.symbol_or_settle(sim, q.get("symbol"), q.get("settleCoin"))
    return Paged(list=[render.position(x) for x in sim.exchange.positions(symbol=symbol)])


async def set_leverage(sim: Sim, b: SetLeverageParams) -> Empty:
    p.category(b.category)
    buy = p.decimal("buyLeverage", b.buyLeverage, required=True)
    sell = p.decimal("sellLeverage", b.sellLeverage, required=True)
    if buy != sell:
        raise BybitError(k.PARAMS_ERROR, "buy leverage must equal sell leverage in one-way mode")
    sim.exchange.set_leverage(symbol=p.symbol(sim, b.symbol), buy_leverage=buy, sell_leverage=sell,
                              now_ms=sim.now_ms())
    sim.flush_private()
    return Empty()


async def trading_stop(sim: Sim, b: TradingStopParams) -> Empty:
    p.category(b.category)
    sim.exchange.set_trading_stop(
        symbol=p.symbol(sim, b.symbol), take_profit=p.decimal("takeProfit", b.takeProfit),
        stop_loss=p.decimal("stopLoss", b.stopLoss), tp_trigger_by=b.tpTriggerBy, sl_trigger_by=b.slTriggerBy,
        now_ms=sim.now_ms())
    sim.flush_private()
    return Empty()


async def executions(sim: Sim, q: dict[str, str]) -> Paged:
    """Newest first, `limit` a page; `nextPageCursor` (here: an offset) leads to the next page."""
    p.category(q.get("category"))
    limit = p.integer("limit", q.get("limit"), default=50, low=1, high=100)
    offset = p.integer("cursor", q.get("cursor"), default=0, low=0, high=2**31)
    rows = sim.exchange.executions(
        symbol=p.symbol(sim, q.get("symbol"), required=False), order_id=q.get("orderId") or None,
        start_ms=p.integer("startTime", q.get("startTime"), default=0, low=0, high=2**63) or None,
        end_ms=p.integer("endTime", q.get("endTime"), default=0, low=0, high=2**63) or None,
        limit=offset + limit + 1)
    more = len(rows) > offset + limit
    return Paged(list=[render.execution(x) for x in rows[offset:offset + limit]],
                 nextPageCursor=str(offset + limit) if more else "")


async def wallet_balance(sim: Sim, q: dict[str, str]) -> WalletResult:
    if q.get("accountType") != AccountType.UNIFIED:
        raise BybitError(k.PARAMS_ERROR,
                       f"accountType [{q.get('accountType')}] is not supported (UNIFIED only)")
    return WalletResult(list=[render.wallet(sim.exchange.wallet())])


# This module's part of the REST surface; app.py assembles the modules' tables.
ROUTES = (
    Route("GET", "/v5/position/list", positions, auth=True),
    Route("POST", "/v5/position/set-leverage", set_leverage, auth=True, params=SetLeverageParams),
    Route("POST", "/v5/position/trading-stop", trading_stop, auth=True, params=TradingStopParams),
    Route("GET", "/v5/execution/list", executions, auth=True),
    Route("GET", "/v5/account/wallet-balance", wallet_balance, auth=True),
)
