"""Position, execution and wallet endpoints."""

from __future__ import annotations

from typing import TYPE_CHECKING

from common.bybit import constants as k
from common.bybit.enums import AccountType, PositionMode, TpslMode
from common.bybit.errors import BybitError
from common.bybit.schemas.account import AccountInfo, ApiKeyInfo
from common.bybit.schemas.envelope import Empty, Paged
from common.bybit.schemas.position import SetLeverageParams, SwitchModeParams, TradingStopParams
from common.bybit.schemas.wallet import WalletResult

from exchange_sim.server import paging, render
from exchange_sim.server import params as p
from exchange_sim.server.rest import Route

if TYPE_CHECKING:
    from exchange_sim.server.sim import Sim

UTA2 = 5  # unifiedMarginStatus of a unified trading account 2.0


async def positions(sim: Sim, q: dict[str, str]) -> Paged:
    """Positions, paged (limit [1, 200], default 20). https://bybit-exchange.github.io/docs/v5/position:
    "If symbol passed, it returns data regardless of having position or not. If symbol=null and
    settleCoin specified, it returns position size greater than zero." """
    if not p.lists_category(q.get("category")):
        return Paged(list=[], category=q["category"])
    symbol = p.symbol_or_settle(sim, q.get("symbol"), q.get("settleCoin"))
    rows = [x for x in sim.exchange.positions(symbol=symbol) if symbol or x.size]
    rows, cursor = paging.page(rows, q, limits=paging.POSITIONS, key=lambda x: f"{x.symbol}-{x.position_idx}")
    return Paged(list=[render.position(x) for x in rows], nextPageCursor=cursor)


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
    """positionIdx is required (the Struct has no default, so a body without it is 10001); tpslMode
    Partial with tpSize/slSize adds partial TP/SL orders; trailingStop trails
    (https://bybit-exchange.github.io/docs/v5/position/trading-stop)."""
    p.category(b.category)
    sim.exchange.set_trading_stop(
        symbol=p.symbol(sim, b.symbol), position_idx=b.positionIdx,
        take_profit=p.decimal("takeProfit", b.takeProfit), stop_loss=p.decimal("stopLoss", b.stopLoss), tp_trigger_by=b.tpTriggerBy, sl_trigger_by=b.slTriggerBy,
        tpsl_mode=b.tpslMode or TpslMode.FULL, tp_size=p.decimal("tpSize", b.tpSize),
        sl_size=p.decimal("slSize", b.slSize), trailing_stop=p.decimal("trailingStop", b.trailingStop),
        active_price=p.decimal("activePrice", b.activePrice), now_ms=sim.now_ms())
    sim.flush_private()
    return Empty()


async def switch_mode(sim: Sim, b: SwitchModeParams) -> Empty:
    """One-way (0) or hedge (3) for a symbol, or for every symbol settled in `coin`
    (https://bybit-exchange.github.io/docs/v5/position/position-mode)."""
    p.category(b.category)
    mode = p.choice("mode", b.mode, tuple(PositionMode))
    symbols = [p.symbol(sim, b.symbol)] if b.symbol else None
    if symbols is None:
        p.symbol_or_settle(sim, None, b.coin)
        symbols = list(sim.exchange.instruments)
    sim.exchange.switch_mode(symbols=symbols, hedge=mode == PositionMode.BOTH_SIDES)
    return Empty()


async def executions(sim: Sim, q: dict[str, str]) -> Paged:
    """Fills newest first, paged with an opaque cursor
    (https://bybit-exchange.github.io/docs/v5/order/execution)."""
    if not p.lists_category(q.get("category")):
        return Paged(list=[], category=q["category"])
    rows = sim.exchange.executions(
        symbol=p.symbol(sim, q.get("symbol"), required=False), order_id=q.get("orderId") or None,
        start_ms=p.integer("startTime", q.get("startTime"), default=0, low=0, high=2**63) or None,
        end_ms=p.integer("endTime", q.get("endTime"), default=0, low=0, high=2**63) or None,
        limit=sim.exchange.fills.maxlen or len(sim.exchange.fills))
    rows, cursor = paging.page(rows, q, limits=paging.EXECUTIONS, key=lambda x: x.exec_id)
    return Paged(list=[render.execution(x) for x in rows], nextPageCursor=cursor)


async def wallet_balance(sim: Sim, q: dict[str, str]) -> WalletResult:
    if q.get("accountType") != AccountType.UNIFIED:
        raise BybitError(k.PARAMS_ERROR,
                       f"accountType [{q.get('accountType')}] is not supported (UNIFIED only)")
    return WalletResult(list=[render.wallet(sim.exchange.wallet())])


async def account_info(sim: Sim, q: dict[str, str]) -> AccountInfo:
    """A unified trading account (UTA 2.0) in regular cross margin."""
    return AccountInfo(unifiedMarginStatus=UTA2, marginMode="REGULAR_MARGIN", updatedTime=str(sim.started_ms))


async def api_key_info(sim: Sim, q: dict[str, str]) -> ApiKeyInfo:
    """The simulator's one key: read-write, contract trading, on a unified trading account."""
    return ApiKeyInfo(id="1", note="scalper-exchange-sim", apiKey=sim.config.api_key, readOnly=0,
                      permissions={"ContractTrade": ["Order", "Position"], "Spot": [],
                                   "Wallet": ["AccountTransfer"], "Options": [], "Derivatives": [], "Exchange": [], "NFT": []},
                      ips=["*"], type=1, createdAt=str(sim.started_ms), userID=1)


# This module's part of the REST surface; app.py assembles the modules' tables.
ROUTES = (
    Route("GET", "/v5/position/list", positions, auth=True),
    Route("POST", "/v5/position/set-leverage", set_leverage, auth=True, params=SetLeverageParams),
    Route("POST", "/v5/position/trading-stop", trading_stop, auth=True, params=TradingStopParams),
    Route("POST", "/v5/position/switch-mode", switch_mode, auth=True, params=SwitchModeParams),
    Route("GET", "/v5/execution/list", executions, auth=True),
    Route("GET", "/v5/account/wallet-balance", wallet_balance, auth=True),
    Route("GET", "/v5/account/info", account_info, auth=True),
    Route("GET", "/v5/user/query-api", api_key_info, auth=True),
)
