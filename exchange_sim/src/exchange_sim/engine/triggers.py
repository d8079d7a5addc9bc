"""What the market triggers: conditional orders, partial TP/SL orders, trailing stops, the position's TP/SL
and liquidation.

A mixin of `Exchange` like `Trading`. Conditional orders wait `Untriggered` in `waiting` until the price
they watch crosses their triggerPrice (https://bybit-exchange.github.io/docs/v5/order/create-order:
triggerPrice, triggerDirection, triggerBy); then they go through matching as a new order would.
"""

from __future__ import annotations

import copy
from decimal import Decimal

from common.bybit.constants import PARAMS_ERROR, TRIGGER_NOT_FALLING, TRIGGER_NOT_RISING
from common.bybit.enums import (
    CancelType, ExecType, OrderStatus, OrderType, RejectReason, Side, StopOrderType, TimeInForce, TpslMode,
    TriggerBy, TriggerDirection)
from common.bybit.errors import BybitError
from exchange_sim.engine.matching import crosses, walk
from exchange_sim.engine.orders import check_trigger_by
from exchange_sim.engine.records import ZERO, Order
from exchange_sim.engine.trading import ORDER_ID_PREFIX
_DIRECTIONS = tuple(TriggerDirection)


class Triggers:
    """Orders and stops the market sets off (see Exchange for the state they use)."""

    def place_conditional(self, *, trigger_price: Decimal, trigger_direction: int, trigger_by: str,
                          now_ms: int, **request) -> Order:
        """A conditional order: checked as an order would be, then held Untriggered until its trigger."""
        market = self._market(request["symbol"])
        check_trigger_by(trigger_by)
        if trigger_direction not in _DIRECTIONS:
            raise BybitError(PARAMS_ERROR, "params error: triggerDirection must be 1 (rise) or 2 (fall)")
        market.instrument.check_price(trigger_price)
        current = market.price(trigger_by)
        if trigger_direction == TriggerDirection.RISE and trigger_price <= current:
            raise BybitError(TRIGGER_NOT_RISING, f"expect Rising, but trigger_price[{trigger_price}] <= "
                                                 f"current[{current}]")
        if trigger_direction == TriggerDirection.FALL and trigger_price >= current:
            raise BybitError(TRIGGER_NOT_FALLING, f"expect Falling, but trigger_price[{trigger_price}] >= "
                                                  f"current[{current}]")
        # no margin is held for a conditional order; it is checked when the order triggers
        order = self._new_order(market_price=trigger_price, check_margin=False, now_ms=now_ms, **request)
        return self._hold(order, trigger_price=trigger_price, trigger_direction=trigger_direction,
                          trigger_by=trigger_by, stop_order_type=StopOrderType.STOP)

    def _hold(self, order: Order, *, trigger_price: Decimal, trigger_direction: int, trigger_by: str,
              stop_order_type: str) -> Order:
        """Register `order` as Untriggered with its trigger, and tell the private stream."""
        order.order_id = self._next_id(ORDER_ID_PREFIX)
        order.order_status = OrderStatus.UNTRIGGERED
        order.trigger_price, order.trigger_direction = trigger_price, trigger_direction
        order.trigger_by = trigger_by
        order.stop_order_type = stop_order_type
        self._register(order)
        self.waiting[order.symbol].append(order)
        self._emit_order(order)
        return copy.copy(order)

    def set_partial_tpsl(self, *, symbol: str, take_profit: Decimal | None, stop_loss: Decimal | None,
                         tp_size: Decimal | None, sl_size: Decimal | None, tp_trigger_by: str, sl_trigger_by: str,
                         now_ms: int) -> None:
        """tpslMode=Partial: each of TP and SL becomes its own reduce-only conditional market order of
        tpSize/slSize (https://bybit-exchange.github.io/docs/v5/position/trading-stop: "Partial position
        TP/SL orders: This API can only add partial position TP/SL orders")."""
        holding = self.account.holdings[symbol]
        instrument = self.instruments[symbol]
        close_side = Side.SELL if holding.direction > 0 else Side.BUY
        legs = ((take_profit, tp_size, tp_trigger_by, StopOrderType.PARTIAL_TAKE_PROFIT, holding.direction > 0),
                (stop_loss, sl_size, sl_trigger_by, StopOrderType.PARTIAL_STOP_LOSS, holding.direction < 0))
        for price, size, by, kind, rising in legs:
            if not price:
                continue
            if not size:
                raise BybitError(PARAMS_ERROR, f"params error: {kind} needs its size (tpSize/slSize) in Partial "
                                               "mode")
            instrument.check_qty(size)
            order = Order(order_id="", symbol=symbol, side=close_side, order_type=OrderType.MARKET, price=ZERO,
                          qty=min(size, holding.size), time_in_force=TimeInForce.IOC, reduce_only=True,
                          close_on_trigger=True, tpsl_mode=TpslMode.PARTIAL,
                          position_idx=self._position_idx(symbol), created_ms=now_ms, updated_ms=now_ms)
            self._hold(order, trigger_price=price, trigger_by=by, stop_order_type=kind,
                       trigger_direction=TriggerDirection.RISE if rising else TriggerDirection.FALL)

    def _check_triggers(self, *, symbol: str, now_ms: int) -> None:
        """Trigger the waiting orders the price has crossed; reduce-only ones die with their position."""
        market, holding = self.markets[symbol], self.account.holdings[symbol]
        for order in list(self.waiting[symbol]):
            closing = 1 if order.side == Side.SELL else -1
            if order.reduce_only and holding.direction != closing:
                self._end(order, reason=RejectReason.NO_ERROR, cancel_type=CancelType.CANCEL_BY_REDUCE_ONLY,
                          now_ms=now_ms, emit_wallet=False)
                continue
            price = market.price(order.trigger_by)
            rising = order.trigger_direction == TriggerDirection.RISE
            if not price or (price < order.trigger_price if rising else price > order.trigger_price):
                continue
            self.waiting[symbol].remove(order)
            order.order_status, order.updated_ms = OrderStatus.TRIGGERED, now_ms
            self._emit_order(order)
            order.order_status = OrderStatus.NEW
            if order.reduce_only:
                order.qty = min(order.qty, holding.size)
            elif not self._margin_covers(order):
                self._end(order, reason=RejectReason.OTHERS, cancel_type=CancelType.UNKNOWN, now_ms=now_ms)
                continue
            self._execute(order, now_ms=now_ms)

    def _margin_covers(self, order: Order) -> bool:
        """No margin is held while a conditional order waits: it is checked when the order triggers."""
        is_limit = order.order_type == OrderType.LIMIT
        book = self.markets[order.symbol].book
        fills = walk(book=book, side=order.side, qty=order.qty, limit=order.price if is_limit else None) \
            if not is_limit or crosses(book=book, side=order.side, price=order.price) else []
        try:
            self._check_margin(symbol=order.symbol, direction=1 if order.side == Side.BUY else -1, qty=order.qty,
                               fills=fills, price=order.price if is_limit else None)
        except BybitError:
            return False
        return True

    def set_trailing_stop(self, *, symbol: str, distance: Decimal, active_price: Decimal | None) -> None:
        """trailingStop: close once the last price falls `distance` below its best since activation (a long;
        a short the other way round); "0" cancels it
        (https://bybit-exchange.github.io/docs/v5/position/trading-stop: trailingStop, activePrice)."""
        holding = self.account.holdings[symbol]
        if distance:
            self.instruments[symbol].check_price(distance)
        holding.trailing_stop, holding.trail_active_price = distance, active_price or ZERO
        holding.trail_peak = ZERO

    def _check_trailing(self, *, symbol: str, now_ms: int) -> bool:
        """True when the trailing stop closed the position."""
        holding = self.account.holdings[symbol]
        price = self.markets[symbol].price(TriggerBy.LAST_PRICE)
        d = holding.direction
        if not price:
            return False
        if not holding.trail_peak:
            if holding.trail_active_price and (price - holding.trail_active_price) * d < 0:
                return False  # not activated yet
            holding.trail_peak = price
        if (price - holding.trail_peak) * d > 0:
            holding.trail_peak = price
        stop = holding.trail_peak - d * holding.trailing_stop
        if (price - stop) * d <= 0:
            self._close(symbol=symbol, stop_order_type=StopOrderType.TRAILING_STOP, trigger_price=stop,
                        now_ms=now_ms)
            return True
        return False

    # the position's own TP/SL, and liquidation ---------------------------------------------------
    def _check_tpsl(self, *, symbol: str, now_ms: int) -> None:
        """Close the position with a market order once the price its TP or SL watches reaches it."""
        holding = self.account.holdings[symbol]
        market = self.markets[symbol]
        if holding.trailing_stop and self._check_trailing(symbol=symbol, now_ms=now_ms):
            return
        for kind, level, by in ((StopOrderType.TAKE_PROFIT, holding.take_profit, holding.tp_trigger_by),
                                (StopOrderType.STOP_LOSS, holding.stop_loss, holding.sl_trigger_by)):
            price = market.price(by)
            if not level or not price:
                continue
            above = (kind == StopOrderType.TAKE_PROFIT) == (holding.direction > 0)
            if price >= level if above else price <= level:
                self._close(symbol=symbol, stop_order_type=kind, trigger_price=level, now_ms=now_ms)
                return

    def _close(self, *, symbol: str, stop_order_type: str, trigger_price: Decimal, now_ms: int) -> None:
        holding = self.account.holdings[symbol]
        order = self._closing_order(symbol=symbol, now_ms=now_ms, order_status=OrderStatus.TRIGGERED,
                                    stop_order_type=stop_order_type, trigger_price=trigger_price,
                                    tp_trigger_by=holding.tp_trigger_by, sl_trigger_by=holding.sl_trigger_by,
                                    tpsl_mode=TpslMode.FULL)
        self._emit_order(order)
        order.order_status = OrderStatus.NEW
        self._execute(order, now_ms=now_ms)

    def _liquidate(self, *, now_ms: int) -> None:
        """Cross margin breached: cancel every order, then close every position at its mark price."""
        self.cancel_all(now_ms=now_ms)
        for symbol in list(self.account.open):
            order = self._closing_order(symbol=symbol, now_ms=now_ms)
            self._fill(order=order, qty=order.qty, price=self.marks[symbol], maker=False, now_ms=now_ms,
                       exec_type=ExecType.BUST_TRADE)
            self._emit_order(order)
            self._emit_position(symbol)

    def _closing_order(self, *, symbol: str, now_ms: int, **fields) -> Order:
        """A reduce-only market order for the whole position (TP/SL or liquidation)."""
        holding = self.account.holdings[symbol]
        side = Side.SELL if holding.direction > 0 else Side.BUY
        return self._register(Order(
            order_id=self._next_id(ORDER_ID_PREFIX), symbol=symbol, side=side, order_type=OrderType.MARKET,
            price=ZERO, qty=holding.size, time_in_force=TimeInForce.IOC, reduce_only=True, close_on_trigger=True,
            position_idx=self._position_idx(symbol), created_ms=now_ms, updated_ms=now_ms, **fields))
