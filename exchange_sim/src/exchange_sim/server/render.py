"""Engine records -> the connector's wire Structs, so the server speaks exactly what clients decode."""

from __future__ import annotations

from decimal import Decimal

from common.bybit.enums import AccountType
from common.bybit.schemas.execution import Execution
from common.bybit.schemas.instrument import InstrumentInfo, LeverageFilter, LotSizeFilter, PriceFilter
from common.bybit.schemas.order import Order
from common.bybit.schemas.position import Position
from common.bybit.schemas.ticker import Ticker
from common.bybit.schemas.trade import PublicTrade, RecentTrade
from common.bybit.schemas.wallet import WalletAccount, WalletCoin

from exchange_sim import engine as e

TRADING = "Trading"  # instruments-info status of a symbol open for trading


def order(o: e.Order) -> Order:
    return Order(
        orderId=o.order_id, orderLinkId=o.order_link_id, symbol=o.symbol, side=o.side, orderType=o.order_type,
        price=str(o.price), qty=str(o.qty), orderStatus=o.order_status, timeInForce=o.time_in_force,
        avgPrice=str(o.avg_price) if o.avg_price else "", leavesQty=str(o.leaves_qty),
        leavesValue=str(o.leaves_qty * o.price), cumExecQty=str(o.cum_exec_qty),
        cumExecValue=str(o.cum_exec_value), cumExecFee=str(o.cum_exec_fee), reduceOnly=o.reduce_only,
        closeOnTrigger=o.close_on_trigger, rejectReason=o.reject_reason,
        cancelType=o.cancel_type, stopOrderType=o.stop_order_type,
        triggerPrice=str(o.trigger_price), triggerDirection=o.trigger_direction, triggerBy=o.trigger_by,
        tpslMode=o.tpsl_mode, cumFeeDetail={"USDT": str(o.cum_exec_fee)} if o.cum_exec_fee else {},
        takeProfit=str(o.take_profit), stopLoss=str(o.stop_loss),
        tpTriggerBy=o.tp_trigger_by, slTriggerBy=o.sl_trigger_by, positionIdx=o.position_idx,
        createdTime=str(o.created_ms), updatedTime=str(o.updated_ms))


def execution(x: e.Execution) -> Execution:
    return Execution(
        execId=x.exec_id, orderId=x.order_id, orderLinkId=x.order_link_id, symbol=x.symbol, side=x.side,
        execPrice=str(x.exec_price), execQty=str(x.exec_qty), execValue=str(x.exec_value),
        execFee=str(x.exec_fee), feeRate=str(x.fee_rate), isMaker=x.is_maker, execType=x.exec_type,
        execTime=str(x.exec_ms), orderType=x.order_type, orderPrice=str(x.order_price),
        orderQty=str(x.order_qty), leavesQty=str(x.leaves_qty))


def position(p: e.Position) -> Position:
    return Position(
        symbol=p.symbol, side=p.side, size=str(p.size) if p.size else "0", avgPrice=str(p.avg_price),
        entryPrice=str(p.avg_price), positionValue=str(p.position_value), leverage=str(p.leverage),
        markPrice=str(p.mark_price), unrealisedPnl=str(p.unrealised_pnl),
        cumRealisedPnl=str(p.cum_realised_pnl),
        takeProfit=str(p.take_profit), stopLoss=str(p.stop_loss), tpTriggerBy=p.tp_trigger_by,
        slTriggerBy=p.sl_trigger_by, positionIM=str(p.position_im), positionMM=str(p.position_mm),
        liqPrice=str(p.liq_price) if p.liq_price else "", positionIdx=p.position_idx,
        trailingStop=str(p.trailing_stop),
        createdTime=str(p.created_ms), updatedTime=str(p.updated_ms))


def wallet(w: e.Wallet) -> WalletAccount:
    coin = WalletCoin(coin=w.coin, equity=str(w.equity), walletBalance=str(w.wallet_balance),
                      unrealisedPnl=str(w.unrealised_pnl), cumRealisedPnl=str(w.cum_realised_pnl),
                      totalPositionIM=str(w.total_position_im), totalOrderIM=str(w.total_order_im),
                      availableToWithdraw=str(w.available_balance), usdValue=str(w.equity))
    return WalletAccount(accountType=AccountType.UNIFIED, totalEquity=str(w.equity),
                         totalWalletBalance=str(w.wallet_balance),
                         totalAvailableBalance=str(w.available_balance), totalPerpUPL=str(w.unrealised_pnl),
                         totalInitialMargin=str(w.total_position_im + w.total_order_im),
                         totalMarginBalance=str(w.equity), totalMaintenanceMargin="0", coin=[coin])


def instrument(i: e.Instrument, *, launch_ms: int) -> InstrumentInfo:
    """Numbers in plain notation, as Bybit writes them (a tick of 1e-7 is "0.0000001")."""
    tick, max_qty = f"{i.tick_size:f}", f"{i.max_qty:f}"
    return InstrumentInfo(
        symbol=i.symbol, contractType="LinearPerpetual", status=TRADING, baseCoin=i.base_coin,
        quoteCoin=i.quote_coin, settleCoin=i.quote_coin, launchTime=str(launch_ms),
        priceScale=str(i.price_scale),
        leverageFilter=LeverageFilter(minLeverage="1", maxLeverage=f"{i.max_leverage:f}",
                                      leverageStep="0.01"),
        priceFilter=PriceFilter(minPrice=tick, maxPrice=f"{i.tick_size * 10**9:f}", tickSize=tick),
        lotSizeFilter=LotSizeFilter(maxOrderQty=max_qty, minOrderQty=f"{i.min_qty:f}",
                                    qtyStep=f"{i.qty_step:f}", postOnlyMaxOrderQty=max_qty,
                                    maxMktOrderQty=f"{i.max_market_qty:f}", minNotionalValue=f"{i.min_notional:f}"))


def ticker(symbol: str, fields: dict[str, Decimal | int | str]) -> Ticker:
    """The engine's ticker dict (Bybit's field names) as a Ticker; unknown keys are left out."""
    known = Ticker.__struct_fields__
    return Ticker(symbol=symbol, **{n: str(v) for n, v in fields.items() if n in known and n != "symbol"})


def public_trade(t: e.TradeTick) -> PublicTrade:
    return PublicTrade(T=t.ts_ms, s=t.symbol, S=t.side, v=str(t.size), p=str(t.price), L=t.tick_direction,
                       i=t.trade_id, BT=t.block_trade)


def recent_trade(t: e.TradeTick) -> RecentTrade:
    return RecentTrade(execId=t.trade_id, symbol=t.symbol, price=str(t.price), size=str(t.size), side=t.side,
                       time=str(t.ts_ms), isBlockTrade=t.block_trade)
