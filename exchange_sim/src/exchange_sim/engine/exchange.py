"""The simulated exchange: the market fed in event by event, and one account trading against it.

Nothing here reads a clock or does I/O: callers pass `now_ms`, so a run is a pure function of its
inputs. Private-stream events queue up until `drain_events()`.
"""

from __future__ import annotations

import copy
from collections import deque
from decimal import Decimal

from exchange_sim.engine.account import Account
from common.bybit.constants import (
    INSUFFICIENT_BALANCE, LEVERAGE_NOT_MODIFIED, PARAMS_ERROR, POSITION_MODE_BLOCKED, POSITION_MODE_NOT_MODIFIED,
    REDUCE_ONLY_INCREASE)
from common.bybit.enums import OPEN_STATUSES, PositionIdx, Side, TpslMode
from common.bybit.errors import BybitError
from exchange_sim.engine.events import BookUpdate, Level, MarketEvent, TradeTick
from exchange_sim.engine.instruments import Instrument, default_instrument
from exchange_sim.engine.market import Market
from exchange_sim.engine.matching import RestingOrders
from exchange_sim.engine.orders import check_tpsl, check_trigger_by, make_id, nonzero, to_decimal
from exchange_sim.engine.records import ZERO, Execution, Order, Position, Wallet
from exchange_sim.engine.trading import Trading
from exchange_sim.engine.triggers import Triggers

__all__ = ["Exchange"]


class Exchange(Trading, Triggers):
    """One Bybit linear market (several symbols) and one unified account trading on it."""

    def __init__(self, *, symbols: list[str], balance: Decimal, maker_fee: Decimal = Decimal("0.0002"),
                 taker_fee: Decimal = Decimal("0.00055"),
                 instruments: dict[str, Instrument] | None = None) -> None:
        given = instruments or {}
        self.instruments = {s: given.get(s) or default_instrument(s) for s in symbols}
        self.markets = {s: Market(i) for s, i in self.instruments.items()}
        self.account = Account(balance=Decimal(balance), instruments=self.instruments)
        self.maker_fee = maker_fee
        self.taker_fee = taker_fee
        self.marks: dict[str, Decimal] = {s: ZERO for s in symbols}
        self.resting = {s: RestingOrders() for s in symbols}
        self.waiting: dict[str, list[Order]] = {s: [] for s in symbols}  # conditional orders, Untriggered
        self.hedge: dict[str, bool] = {s: False for s in symbols}  # position mode per symbol; one-way default
        self.orders: dict[str, Order] = {}
        self.link_ids: dict[str, str] = {}
        self.fills: deque[Execution] = deque(maxlen=10_000)
        self.events: list[tuple[str, Order | Execution | Position | Wallet]] = []
        self.counter = 0

    # market side ---------------------------------------------------------------------------------
    def apply(self, event: MarketEvent) -> None:
        """Feed one market event: update the public state, then fill, trigger and liquidate as it implies."""
        market = self._market(event.symbol)
        resting = self.resting[event.symbol]
        if type(event) is TradeTick:
            market.apply_trade(event)
            fills = resting.on_trade(event) if resting else ()
        elif type(event) is BookUpdate:
            market.apply_book(event)
            fills = resting.on_book(market.book) if resting else ()
        else:  # a ticker moves mark, index and funding: TP/SL by mark and liquidation may fire, no fill
            market.apply_ticker(event)
            fills = ()
        self.marks[event.symbol] = market.mark_price or market.last_price
        now = event.ts_ms
        for order, qty in fills:
            if order.order_status in OPEN_STATUSES:  # an earlier fill may have cancelled a reduce-only one
                self._maker_fill(order=order, qty=qty, now_ms=now)
        if self.waiting[event.symbol]:
            self._check_triggers(symbol=event.symbol, now_ms=now)
        holding = self.account.holdings[event.symbol]
        if holding.direction and (holding.take_profit or holding.stop_loss or holding.trailing_stop):
            self._check_tpsl(symbol=event.symbol, now_ms=now)
        if holding.direction and self.account.in_liquidation(self.marks):
            self._liquidate(now_ms=now)

    def book(self, symbol: str, depth: int) -> tuple[list[Level], list[Level], int, int, int]:
        """(bids best first, asks best first, u, seq, ts_ms) of the last book message."""
        book = self._market(symbol).book
        bids, asks = book.top(depth)
        return bids, asks, book.u, book.seq, book.ts_ms

    def ticker(self, symbol: str) -> dict[str, Decimal | int | str]:
        return self._market(symbol).ticker()

    def recent_trades(self, symbol: str, limit: int) -> list[TradeTick]:
        """Newest first, as Bybit's recent-trade endpoint."""
        trades = self._market(symbol).trades
        return [trades[-1 - i] for i in range(min(limit, len(trades)))]

    def klines(self, symbol: str, interval: str, limit: int, end_ms: int | None = None) -> list[tuple]:
        return self._market(symbol).candles.query(interval=interval, limit=limit, end_ms=end_ms)

    # account queries -----------------------------------------------------------------------------
    def open_orders(self, *, symbol: str | None = None, order_id: str | None = None,
                    order_link_id: str | None = None) -> list[Order]:
        """Open orders newest first; asking by id also finds a finished order, as Bybit's realtime does."""
        found = self._select(symbol=symbol, order_id=order_id, order_link_id=order_link_id)
        if order_id or order_link_id:
            return found
        return [o for o in found if o.order_status in OPEN_STATUSES]

    def order_history(self, *, symbol: str | None = None, order_id: str | None = None,
                      order_link_id: str | None = None, limit: int = 50) -> list[Order]:
        return self._select(symbol=symbol, order_id=order_id, order_link_id=order_link_id)[:limit]

    def positions(self, *, symbol: str | None = None) -> list[Position]:
        """One record per symbol in one-way mode; in hedge mode one per side (positionIdx 1 and 2), the
        side not held shown flat, as Bybit lists them."""
        symbols = [symbol] if symbol else list(self.instruments)
        out = []
        for s in symbols:
            self._market(s)
            p = self.account.position(symbol=s, marks=self.marks)
            p.position_idx = self._position_idx(s)
            out.append(p)
            if self.hedge[s]:
                flat = self.account.flat_position(symbol=s, marks=self.marks)
                flat.position_idx = PositionIdx.HEDGE_SELL if p.position_idx == PositionIdx.HEDGE_BUY \
                    else PositionIdx.HEDGE_BUY
                out.append(flat)
        return out

    def executions(self, *, symbol: str | None = None, order_id: str | None = None,
                   start_ms: int | None = None, end_ms: int | None = None,
                   limit: int = 50) -> list[Execution]:
        """Fills newest first."""
        out = []
        for e in reversed(self.fills):
            if len(out) == limit:
                break
            if (symbol and e.symbol != symbol) or (order_id and e.order_id != order_id):
                continue
            if (start_ms is not None and e.exec_ms < start_ms) or (end_ms is not None and e.exec_ms > end_ms):
                continue
            out.append(e)
        return out

    def wallet(self) -> Wallet:
        return self.account.wallet(marks=self.marks, order_im=self._order_im())

    def drain_events(self) -> list[tuple[str, Order | Execution | Position | Wallet]]:
        """Private-stream events since the last call, oldest first; each record is a snapshot copy."""
        events, self.events = self.events, []
        return events

    # account settings ----------------------------------------------------------------------------
    def set_leverage(self, *, symbol: str, buy_leverage: Decimal, sell_leverage: Decimal,
                     now_ms: int) -> None:
        instrument = self._market(symbol).instrument
        buy = to_decimal(buy_leverage, name="buyLeverage")
        sell = to_decimal(sell_leverage, name="sellLeverage")
        if buy != sell:
            raise BybitError(PARAMS_ERROR, "buyLeverage must equal sellLeverage in one-way mode")
        if not 1 <= buy <= instrument.max_leverage:
            raise BybitError(PARAMS_ERROR, f"leverage {buy} must be between 1 and {instrument.max_leverage}")
        holding = self.account.holdings[symbol]
        if buy == holding.leverage:
            raise BybitError(LEVERAGE_NOT_MODIFIED, "leverage not modified")
        extra = holding.entry_value / buy - holding.entry_value / holding.leverage
        if extra > 0 and extra > self.wallet().available_balance:
            raise BybitError(INSUFFICIENT_BALANCE, "available balance cannot cover the extra margin")
        self.account.set_leverage(symbol=symbol, leverage=buy, now_ms=now_ms)
        self._emit_position(symbol)

    def switch_mode(self, *, symbols: list[str], hedge: bool) -> None:
        """Bybit's switch-mode: refused while a symbol holds a position or an order
        (https://bybit-exchange.github.io/docs/v5/position/position-mode)."""
        for s in symbols:
            self._market(s)
            if self.account.holdings[s].direction or self.resting[s] or self.waiting[s]:
                raise BybitError(POSITION_MODE_BLOCKED, f"{s}: position mode cannot be switched while a position "
                                                        "or an active order exists")
        if all(self.hedge[s] == hedge for s in symbols):
            raise BybitError(POSITION_MODE_NOT_MODIFIED, "Position mode is not modified")
        for s in symbols:
            self.hedge[s] = hedge

    def check_position_idx(self, *, symbol: str, side: str, reduce_only: bool, position_idx: int | None) -> int:
        """The positionIdx an order gets; refused when it does not match the position mode. Hedge mode keeps
        one side open at a time here (the engine nets): opening the second side is refused, by name."""
        if not self.hedge[symbol]:
            if position_idx not in (None, PositionIdx.ONE_WAY):
                raise BybitError(PARAMS_ERROR, "position idx not match position mode")
            return PositionIdx.ONE_WAY
        if position_idx not in (PositionIdx.HEDGE_BUY, PositionIdx.HEDGE_SELL):
            raise BybitError(PARAMS_ERROR, "position idx not match position mode")
        side_of_idx = 1 if position_idx == PositionIdx.HEDGE_BUY else -1
        held = self.account.holdings[symbol].direction
        opening = (1 if side == Side.BUY else -1) == side_of_idx
        if opening and not reduce_only and held == -side_of_idx:
            raise BybitError(PARAMS_ERROR, "simulator: hedge mode holds one side of a symbol at a time")
        if not opening and held != side_of_idx:
            raise BybitError(REDUCE_ONLY_INCREASE, "current position is zero, cannot fulfill reduce-only order")
        return position_idx

    def _position_idx(self, symbol: str) -> int:
        """The positionIdx of the symbol's position as it stands."""
        if not self.hedge[symbol]:
            return PositionIdx.ONE_WAY
        return PositionIdx.HEDGE_SELL if self.account.holdings[symbol].direction < 0 else PositionIdx.HEDGE_BUY

    def set_trading_stop(self, *, symbol: str, position_idx: int = PositionIdx.ONE_WAY,
                         take_profit: Decimal | str | None = None,
                         stop_loss: Decimal | str | None = None, tp_trigger_by: str | None = None,
                         sl_trigger_by: str | None = None, tpsl_mode: str = TpslMode.FULL,
                         tp_size: Decimal | None = None, sl_size: Decimal | None = None,
                         trailing_stop: Decimal | None = None, active_price: Decimal | None = None,
                         now_ms: int) -> None:
        """Set or cancel ("0") the position's TP/SL or trailing stop; None leaves a side as it is. Partial
        mode adds separate TP/SL orders of tp_size/sl_size instead."""
        market = self._market(symbol)
        holding = self.account.holdings[symbol]
        if not holding.direction:
            raise BybitError(PARAMS_ERROR, "can not set tp/sl/ts for zero position")
        if position_idx != self._position_idx(symbol):
            raise BybitError(PARAMS_ERROR, "position idx not match position mode")
        if tpsl_mode not in tuple(TpslMode):
            raise BybitError(PARAMS_ERROR, f"params error: tpslMode [{tpsl_mode}] must be Full or Partial")
        check_trigger_by(tp_trigger_by)
        check_trigger_by(sl_trigger_by)
        tp = to_decimal(take_profit, name="takeProfit")
        sl = to_decimal(stop_loss, name="stopLoss")
        tp_by = tp_trigger_by or holding.tp_trigger_by
        sl_by = sl_trigger_by or holding.sl_trigger_by
        for price, by, name in ((tp, tp_by, "tp"), (sl, sl_by, "sl")):
            if price:
                check_tpsl(instrument=market.instrument, direction=holding.direction, base=market.price(by),
                           take_profit=price if name == "tp" else ZERO,
                           stop_loss=price if name == "sl" else ZERO, what="position")
        if trailing_stop is not None:
            self.set_trailing_stop(symbol=symbol, distance=nonzero(trailing_stop), active_price=active_price)
        if tpsl_mode == TpslMode.PARTIAL:
            self.set_partial_tpsl(symbol=symbol, take_profit=nonzero(tp), stop_loss=nonzero(sl), tp_size=tp_size,
                                  sl_size=sl_size, tp_trigger_by=tp_by, sl_trigger_by=sl_by, now_ms=now_ms)
        else:
            if tp is not None:
                holding.take_profit = nonzero(tp)
            if sl is not None:
                holding.stop_loss = nonzero(sl)
            holding.tp_trigger_by, holding.sl_trigger_by = tp_by, sl_by
        holding.updated_ms = now_ms
        self._emit_position(symbol)

    # internals -----------------------------------------------------------------------------------
    def _market(self, symbol: str) -> Market:
        market = self.markets.get(symbol)
        if market is None:
            raise BybitError(PARAMS_ERROR, f"symbol {symbol} is not traded here")
        return market

    def _select(self, *, symbol: str | None, order_id: str | None, order_link_id: str | None) -> list[Order]:
        if order_link_id:
            order_id = self.link_ids.get(order_link_id, "?")
        if order_id:
            order = self.orders.get(order_id)
            return [order] if order and (not symbol or order.symbol == symbol) else []
        return [o for o in reversed(self.orders.values()) if not symbol or o.symbol == symbol]

    def _order_im(self) -> Decimal:
        """Margin and fee reserved by resting orders for the part that would open a position."""
        total = ZERO
        for symbol, resting in self.resting.items():
            if not resting:
                continue
            h = self.account.holdings[symbol]
            for queue, side in ((resting.buys, 1), (resting.sells, -1)):
                reducible = h.size if h.direction == -side else ZERO
                for r in queue:
                    leaves = r.order.leaves_qty
                    if r.order.reduce_only:
                        continue
                    opening = max(ZERO, leaves - reducible)
                    reducible = max(ZERO, reducible - leaves)
                    value = opening * r.order.price
                    total += value / h.leverage + value * self.taker_fee
        return total

    def _emit_position(self, symbol: str) -> None:
        position = self.account.position(symbol=symbol, marks=self.marks)
        position.position_idx = self._position_idx(symbol)
        self.events.append(("position", position))
        self.events.append(("wallet", self.wallet()))

    def _emit_order(self, order: Order) -> None:
        self.events.append(("order", copy.copy(order)))

    def _next_id(self, prefix: int) -> str:
        self.counter += 1
        return make_id(prefix=prefix, n=self.counter)

