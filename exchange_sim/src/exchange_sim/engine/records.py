"""The account's records (order, execution, position, wallet), named after Bybit's v5 fields in snake_case."""

from __future__ import annotations

from common.bybit.enums import OPEN_STATUSES, CancelType, OrderStatus, RejectReason, TimeInForce, TriggerBy
from dataclasses import dataclass
from decimal import Decimal

ZERO = Decimal(0)


@dataclass(slots=True, kw_only=True)
class Order:
    """One order as `/v5/order/realtime` and the private `order` topic show it."""

    order_id: str
    order_link_id: str = ""
    symbol: str
    side: str  # Buy | Sell
    order_type: str  # Market | Limit
    price: Decimal  # 0 for a market order
    qty: Decimal
    cum_exec_qty: Decimal = ZERO
    cum_exec_value: Decimal = ZERO
    cum_exec_fee: Decimal = ZERO
    avg_price: Decimal = ZERO  # 0 until the first fill
    time_in_force: str = TimeInForce.GTC  # GTC | IOC | FOK | PostOnly
    reduce_only: bool = False
    close_on_trigger: bool = False
    # New, PartiallyFilled, Filled, Cancelled, Rejected, Untriggered, Triggered, Deactivated
    order_status: str = OrderStatus.NEW
    take_profit: Decimal = ZERO  # 0: none
    stop_loss: Decimal = ZERO  # 0: none
    tp_trigger_by: str = TriggerBy.LAST_PRICE
    sl_trigger_by: str = TriggerBy.LAST_PRICE
    trigger_price: Decimal = ZERO  # a conditional order's triggerPrice, or the TP/SL price that triggered it
    trigger_direction: int = 0  # 1 rise, 2 fall (conditional orders), else 0
    trigger_by: str = ""  # the price a conditional order watches: LastPrice | MarkPrice | IndexPrice
    stop_order_type: str = ""  # "" | Stop | TakeProfit | StopLoss | PartialTakeProfit | ... | TrailingStop
    tpsl_mode: str = ""  # Full | Partial when the order carries or is a TP/SL, else ""
    reject_reason: str = RejectReason.NO_ERROR  # or why the engine cancelled or rejected it
    created_ms: int
    updated_ms: int
    position_idx: int = 0  # one-way mode
    cancel_type: str = CancelType.UNKNOWN  # CancelByUser, CancelByReduceOnly, ... once cancelled

    @property
    def leaves_qty(self) -> Decimal:
        """Quantity still open (0 once the order is finished)."""
        return self.qty - self.cum_exec_qty if self.order_status in OPEN_STATUSES else ZERO


@dataclass(slots=True)
class Execution:
    """One fill of one of our orders, as `/v5/execution/list` and the `execution` topic show it."""

    exec_id: str
    order_id: str
    order_link_id: str
    symbol: str
    side: str
    exec_price: Decimal
    exec_qty: Decimal
    exec_value: Decimal
    exec_fee: Decimal
    fee_rate: Decimal
    is_maker: bool
    exec_type: str  # Trade (BustTrade for a liquidation)
    exec_ms: int
    order_type: str
    order_price: Decimal
    order_qty: Decimal
    leaves_qty: Decimal
    closed_size: Decimal = ZERO  # how much of this fill closed an existing position


@dataclass(slots=True)
class Position:
    """One symbol's one-way position (`side` "" and size 0 when flat), as `/v5/position/list` shows it."""

    symbol: str
    side: str
    size: Decimal
    avg_price: Decimal
    leverage: Decimal
    position_value: Decimal  # size * entry price
    mark_price: Decimal
    unrealised_pnl: Decimal
    cum_realised_pnl: Decimal  # closed PnL minus every fee paid on this symbol, as Bybit books it
    take_profit: Decimal
    stop_loss: Decimal
    tp_trigger_by: str
    sl_trigger_by: str
    position_im: Decimal
    position_mm: Decimal
    liq_price: Decimal  # 0 when flat or when no price would liquidate
    created_ms: int
    updated_ms: int
    position_idx: int = 0
    trailing_stop: Decimal = ZERO  # the trailing distance, 0: none


@dataclass(slots=True)
class Wallet:
    """The USDT account.

    Identity (tested): `equity == cash + unrealised_pnl - fees_paid`, where
    `cash = initial balance + cum_realised_pnl` (closed trading PnL, before fees) and
    `wallet_balance = cash - fees_paid`. A liquidation that would leave the balance negative books only
    the loss the balance can pay (the rest is `bankruptcy_cover`), so the balance never goes below 0.
    """

    coin: str
    wallet_balance: Decimal
    equity: Decimal
    unrealised_pnl: Decimal
    cum_realised_pnl: Decimal  # closed PnL before fees, summed over all symbols
    available_balance: Decimal  # equity - position IM - order IM, never below 0
    total_position_im: Decimal
    total_order_im: Decimal
    fees_paid: Decimal
    cash: Decimal = ZERO
    bankruptcy_cover: Decimal = ZERO  # losses beyond the balance that liquidation left to the insurance fund
