"""Order entry and fills: place, amend, cancel, maker/taker fills, TP/SL triggers and liquidation.

A mixin of `Exchange` (it works on the exchange's state) so neither module outgrows one screenful of ideas.
"""

from __future__ import annotations

import copy
from decimal import Decimal
from itertools import islice

from common.bybit.constants import INSUFFICIENT_BALANCE, ORDER_NOT_FOUND, PARAMS_ERROR, REDUCE_ONLY_INCREASE
from common.bybit.enums import (
    OPEN_STATUSES, CancelType, ExecType, OrderFilter, OrderStatus, OrderType, RejectReason, Side, TimeInForce,
    TpslMode, TriggerBy)
from common.bybit.errors import BybitError
from exchange_sim.engine.events import Level
from exchange_sim.engine.matching import crosses, walk
from exchange_sim.engine.orders import check_request, check_tpsl, check_trigger_by, nonzero, to_decimal
from exchange_sim.engine.records import ZERO, Execution, Order

KEPT_ORDERS = 20_000  # order history kept for queries; a 24/7 run must not grow without bound
ORDER_ID_PREFIX = 0x5C41_0000_0000_0001  # high 64 bits of order ids
EXEC_ID_PREFIX = 0x5C41_0000_0000_00E5  # high 64 bits of execution ids


class Trading:
    """The account's trading operations (see Exchange for the state they use)."""

    def place_order(self, *, symbol: str, side: str, order_type: str, qty: Decimal,
                    price: Decimal | None = None, time_in_force: str = TimeInForce.GTC, reduce_only: bool = False,
                    close_on_trigger: bool = False, order_link_id: str = "",
                    take_profit: Decimal | None = None, stop_loss: Decimal | None = None,
                    tp_trigger_by: str = TriggerBy.LAST_PRICE, sl_trigger_by: str = TriggerBy.LAST_PRICE,
                    position_idx: int | None = None, now_ms: int) -> Order:
        """Place an order and match it at once; returns a copy of the order as it stands afterwards."""
        order = self._new_order(symbol=symbol, side=side, order_type=order_type, qty=qty, price=price,
                                time_in_force=time_in_force, reduce_only=reduce_only,
                                close_on_trigger=close_on_trigger, order_link_id=order_link_id,
                                take_profit=take_profit, stop_loss=stop_loss, tp_trigger_by=tp_trigger_by,
                                sl_trigger_by=sl_trigger_by, position_idx=position_idx, now_ms=now_ms)
        self._execute(order, now_ms=now_ms)
        return copy.copy(order)

    def _new_order(self, *, symbol: str, side: str, order_type: str, qty: Decimal, price: Decimal | None,
                   time_in_force: str, reduce_only: bool, close_on_trigger: bool, order_link_id: str,
                   take_profit: Decimal | None, stop_loss: Decimal | None, tp_trigger_by: str, sl_trigger_by: str,
                   position_idx: int | None, now_ms: int, market_price: Decimal | None = None,
                   check_margin: bool = True) -> Order:
        """Check a request as Bybit does and build its order (not yet registered or matched);
        `market_price` values a Market order for minNotionalValue (default: the market's last price)."""
        market = self._market(symbol)
        instrument = market.instrument
        qty, price = to_decimal(qty, name="qty"), to_decimal(price, name="price")
        tp = nonzero(to_decimal(take_profit, name="takeProfit"))
        sl = nonzero(to_decimal(stop_loss, name="stopLoss"))
        reduce_only = reduce_only or close_on_trigger  # Bybit: a close-on-trigger order only ever reduces
        check_request(instrument=instrument, side=side, order_type=order_type, qty=qty, price=price,
                      time_in_force=time_in_force, order_link_id=order_link_id, used_link_ids=self.link_ids,
                      reduce_only=reduce_only, market_price=market_price or market.last_price or market.mark_price)
        check_trigger_by(tp_trigger_by)
        check_trigger_by(sl_trigger_by)
        idx = self.check_position_idx(symbol=symbol, side=side, reduce_only=reduce_only, position_idx=position_idx)
        direction = 1 if side == Side.BUY else -1
        is_limit = order_type == OrderType.LIMIT
        base = price if is_limit else (market_price or market.last_price or market.mark_price)
        check_tpsl(instrument=instrument, direction=direction, base=base, take_profit=tp, stop_loss=sl)
        holding = self.account.holdings[symbol]
        if reduce_only:
            if holding.direction != -direction:
                raise BybitError(REDUCE_ONLY_INCREASE, "current position is zero or on the same side, "
                                                 "cannot fulfill reduce-only order")
            qty = min(qty, holding.size)
        elif check_margin:
            book = market.book
            taking = not is_limit or crosses(book=book, side=side, price=price)
            fills = walk(book=book, side=side, qty=qty, limit=price if is_limit else None) if taking else []
            self._check_margin(symbol=symbol, direction=direction, qty=qty, fills=fills,
                               price=price if is_limit else None)
        return Order(
            order_id="", order_link_id=order_link_id, symbol=symbol, side=side,
            order_type=order_type, price=price if is_limit else ZERO, qty=qty,
            time_in_force=time_in_force if is_limit else TimeInForce.IOC,  # "Market order will use IOC directly"
            reduce_only=reduce_only, close_on_trigger=close_on_trigger, take_profit=tp, stop_loss=sl,
            tp_trigger_by=tp_trigger_by, sl_trigger_by=sl_trigger_by, tpsl_mode=TpslMode.FULL if tp or sl else "",
            position_idx=idx, created_ms=now_ms, updated_ms=now_ms)

    def _execute(self, order: Order, *, now_ms: int) -> None:
        """Register `order` (given its id) and match it against the book: take, rest, or end it."""
        if not order.order_id:
            order.order_id = self._next_id(ORDER_ID_PREFIX)
            self._register(order)
        book = self.markets[order.symbol].book
        is_limit = order.order_type == OrderType.LIMIT
        taking = not is_limit or crosses(book=book, side=order.side, price=order.price)
        fills = (walk(book=book, side=order.side, qty=order.qty, limit=order.price if is_limit else None)
                 if taking else [])
        if order.time_in_force == TimeInForce.POST_ONLY and taking:
            self._end(order, reason=RejectReason.POST_ONLY_WILL_TAKE_LIQUIDITY, cancel_type=CancelType.UNKNOWN, now_ms=now_ms)
        elif order.time_in_force == TimeInForce.FOK and sum((q for _, q in fills), ZERO) < order.qty:
            self._end(order, reason=RejectReason.NO_ENOUGH_QTY_TO_FILL, cancel_type=CancelType.UNKNOWN, now_ms=now_ms)
        else:
            self._take(order=order, fills=fills, now_ms=now_ms)
            if fills and self.account.open and self.account.in_liquidation(self.marks):
                self._liquidate(now_ms=now_ms)  # a fill's fee may leave equity at the maintenance margin

    def amend_order(self, *, symbol: str, order_id: str | None = None, order_link_id: str | None = None,
                    qty: Decimal | None = None, price: Decimal | None = None,
                    take_profit: Decimal | None = None, stop_loss: Decimal | None = None,
                    now_ms: int) -> Order:
        """Change a resting order; a new price loses its queue place and may trade at once."""
        order = self._open_order(symbol=symbol, order_id=order_id, order_link_id=order_link_id)
        instrument = self.instruments[symbol]
        qty, price = to_decimal(qty, name="qty"), to_decimal(price, name="price")
        tp, sl = to_decimal(take_profit, name="takeProfit"), to_decimal(stop_loss, name="stopLoss")
        new_qty = order.qty if qty is None else qty
        new_price = order.price if price is None else price
        if qty is not None:
            instrument.check_qty(qty)
            if qty <= order.cum_exec_qty:
                raise BybitError(PARAMS_ERROR, f"qty {qty} must exceed the filled {order.cum_exec_qty}")
        if price is not None:
            instrument.check_price(price)
        direction = 1 if order.side == Side.BUY else -1
        check_tpsl(instrument=instrument, direction=direction, base=new_price,
                   take_profit=nonzero(order.take_profit if tp is None else tp),
                   stop_loss=nonzero(order.stop_loss if sl is None else sl))
        unchanged = (new_qty, new_price) == (order.qty, order.price)
        if unchanged and tp is None and sl is None:
            raise BybitError(PARAMS_ERROR, "The order remains unchanged as the parameters entered match the "
                                        "existing ones")
        if not order.reduce_only:
            added = (new_qty - order.cum_exec_qty) * new_price - order.leaves_qty * order.price
            leverage = self.account.holdings[symbol].leverage
            if added > 0 and added / leverage + added * self.taker_fee > self.wallet().available_balance:
                raise BybitError(INSUFFICIENT_BALANCE, "Insufficient available balance")
        order.qty, order.updated_ms = new_qty, now_ms
        if tp is not None:
            order.take_profit = nonzero(tp)
        if sl is not None:
            order.stop_loss = nonzero(sl)
        if new_price != order.price:
            order.price = new_price
            self.resting[symbol].remove(order)
            book = self.markets[symbol].book
            if not crosses(book=book, side=order.side, price=new_price):
                self.resting[symbol].add(order=order, book=book, seq=self._next_seq())
            elif order.time_in_force == TimeInForce.POST_ONLY:
                self._end(order, reason=RejectReason.POST_ONLY_WILL_TAKE_LIQUIDITY, cancel_type=CancelType.UNKNOWN, now_ms=now_ms)
                return copy.copy(order)
            else:
                fills = walk(book=book, side=order.side, qty=order.leaves_qty, limit=new_price)
                self._take(order=order, fills=fills, now_ms=now_ms)
                return copy.copy(order)
        self._settle(symbol)
        self._emit_order(order)
        self.events.append(("wallet", self.wallet()))
        return copy.copy(order)

    def cancel_order(self, *, symbol: str, order_id: str | None = None, order_link_id: str | None = None,
                     now_ms: int) -> Order:
        order = self._open_order(symbol=symbol, order_id=order_id, order_link_id=order_link_id)
        self._end(order, reason=RejectReason.PER_CANCEL_REQUEST, cancel_type=CancelType.CANCEL_BY_USER, now_ms=now_ms)
        return copy.copy(order)

    def cancel_all(self, *, symbol: str | None = None, order_filter: str = "", now_ms: int) -> list[Order]:
        """Cancel ordinary orders (`order_filter` Order), conditional ones (StopOrder) or, unset, both
        (https://bybit-exchange.github.io/docs/v5/order/cancel-all: orderFilter)."""
        symbols = [symbol] if symbol else list(self.resting)
        done = []
        for s in symbols:
            self._market(s)
            orders = [] if order_filter == OrderFilter.STOP_ORDER else self.resting[s].orders()
            if order_filter != OrderFilter.ORDER:
                orders += self.waiting[s]
            for order in orders:
                self._end(order, reason=RejectReason.PER_CANCEL_REQUEST, cancel_type=CancelType.CANCEL_BY_USER, now_ms=now_ms)
                done.append(copy.copy(order))
        return done

    # fills ---------------------------------------------------------------------------------------
    def _take(self, *, order: Order, fills: list[Level], now_ms: int) -> None:
        """Book an incoming order's taker fills, then rest its remainder (GTC/PostOnly) or cancel it."""
        for price, qty in fills:
            self._fill(order=order, qty=qty, price=price, maker=False, now_ms=now_ms)
        if order.order_status in OPEN_STATUSES:
            resting = (TimeInForce.GTC, TimeInForce.POST_ONLY)
            if order.order_type == OrderType.LIMIT and order.time_in_force in resting:
                self.resting[order.symbol].add(order=order, book=self.markets[order.symbol].book,
                                               seq=self._next_seq())
                self._emit_order(order)
            else:
                self._end(order, reason=RejectReason.NO_IMMEDIATE_QTY_TO_FILL, cancel_type=CancelType.UNKNOWN, now_ms=now_ms,
                          emit_wallet=False)
        else:
            self._emit_order(order)
        if fills:
            self._settle(order.symbol)
            self._emit_position(order.symbol)
        else:
            self.events.append(("wallet", self.wallet()))

    def _maker_fill(self, *, order: Order, qty: Decimal, now_ms: int) -> None:
        """A resting order fills at its own price because the market reached it."""
        self._fill(order=order, qty=qty, price=order.price, maker=True, now_ms=now_ms)
        if order.order_status not in OPEN_STATUSES:
            self.resting[order.symbol].remove(order)
        self._emit_order(order)
        self._settle(order.symbol)
        self._emit_position(order.symbol)

    def _fill(self, *, order: Order, qty: Decimal, price: Decimal, maker: bool, now_ms: int,
              exec_type: str = ExecType.TRADE) -> None:
        holding = self.account.holdings[order.symbol]
        if order.reduce_only:
            direction = 1 if order.side == Side.BUY else -1
            qty = min(qty, holding.size) if holding.direction == -direction else ZERO
            if not qty:
                return
        rate = self.maker_fee if maker else self.taker_fee
        closed, fee = self.account.fill(symbol=order.symbol, side=order.side, qty=qty, price=price,
                                        fee_rate=rate, now_ms=now_ms)
        order.cum_exec_qty += qty
        order.cum_exec_value += price * qty
        order.cum_exec_fee += fee
        order.avg_price = (order.cum_exec_value / order.cum_exec_qty).quantize(
            self.instruments[order.symbol].tick_size / 10000)
        done = order.cum_exec_qty == order.qty
        order.order_status = OrderStatus.FILLED if done else OrderStatus.PARTIALLY_FILLED
        order.updated_ms = now_ms
        if qty > closed and (order.take_profit or order.stop_loss):
            holding.take_profit, holding.stop_loss = order.take_profit, order.stop_loss
            holding.tp_trigger_by, holding.sl_trigger_by = order.tp_trigger_by, order.sl_trigger_by
        execution = Execution(
            exec_id=self._next_id(EXEC_ID_PREFIX), order_id=order.order_id, order_link_id=order.order_link_id,
            symbol=order.symbol, side=order.side, exec_price=price, exec_qty=qty, exec_value=price * qty,
            exec_fee=fee, fee_rate=rate, is_maker=maker, exec_type=exec_type, exec_ms=now_ms,
            order_type=order.order_type, order_price=order.price, order_qty=order.qty,
            leaves_qty=order.qty - order.cum_exec_qty, closed_size=closed)
        self.fills.append(execution)
        self.events.append(("execution", execution))

    def _settle(self, symbol: str) -> None:
        """Keep reduce-only orders from outgrowing the position: clip them, or cancel them once it is gone."""
        holding = self.account.holdings[symbol]
        for order in self.resting[symbol].orders():
            if not order.reduce_only:
                continue
            direction = 1 if order.side == Side.BUY else -1
            if holding.direction != -direction:
                self._end(order, reason=RejectReason.NO_ERROR, cancel_type=CancelType.CANCEL_BY_REDUCE_ONLY,
                          now_ms=holding.updated_ms, emit_wallet=False)
            elif order.leaves_qty > holding.size:
                order.qty = order.cum_exec_qty + holding.size
                self._emit_order(order)

    def _end(self, order: Order, *, reason: str, cancel_type: str, now_ms: int,
             emit_wallet: bool = True) -> None:
        """Cancel what is left of an order (Bybit keeps the status Cancelled even after partial fills);
        a conditional order that never triggered becomes Deactivated."""
        self.resting[order.symbol].remove(order)
        if order.order_status == OrderStatus.UNTRIGGERED:
            self.waiting[order.symbol].remove(order)
            order.order_status = OrderStatus.DEACTIVATED
        else:
            order.order_status = OrderStatus.CANCELLED
        order.reject_reason = reason
        order.cancel_type = cancel_type
        order.updated_ms = now_ms
        self._emit_order(order)
        if emit_wallet:
            self.events.append(("wallet", self.wallet()))

    # helpers -------------------------------------------------------------------------------------
    def _check_margin(self, *, symbol: str, direction: int, qty: Decimal, fills: list[Level],
                      price: Decimal | None) -> None:
        """110007 unless available balance covers the initial margin of the opening part plus the fee."""
        holding = self.account.holdings[symbol]
        reducible = holding.size if holding.direction == -direction else ZERO
        opening = qty - min(qty, reducible)
        if not opening:
            return
        filled = sum((q for _, q in fills), ZERO)
        value = sum((p * q for p, q in fills), ZERO)
        total = qty if price is not None else filled
        value += (qty - filled) * price if price is not None else ZERO
        if not total:
            return
        opening_value = value * min(opening, total) / total
        cost = opening_value / holding.leverage + value * self.taker_fee
        if cost > self.wallet().available_balance:
            raise BybitError(INSUFFICIENT_BALANCE, "Insufficient available balance")

    def _register(self, order: Order) -> Order:
        """Remember a new order; past KEPT_ORDERS the oldest finished ones (and link ids) are dropped."""
        self.orders[order.order_id] = order
        if order.order_link_id:
            self.link_ids[order.order_link_id] = order.order_id
        if len(self.orders) > KEPT_ORDERS:
            for old in list(islice(self.orders.values(), len(self.orders) - KEPT_ORDERS + KEPT_ORDERS // 10)):
                if old.order_status not in OPEN_STATUSES:
                    del self.orders[old.order_id]
                    self.link_ids.pop(old.order_link_id, None)
        return order

    def _open_order(self, *, symbol: str, order_id: str | None, order_link_id: str | None) -> Order:
        self._market(symbol)
        if not order_id and not order_link_id:
            raise BybitError(PARAMS_ERROR, "orderId or orderLinkId is required")
        found = self._select(symbol=symbol, order_id=order_id, order_link_id=order_link_id)
        if not found or found[0].order_status not in OPEN_STATUSES:
            raise BybitError(ORDER_NOT_FOUND, "order not exists or too late to cancel")
        return found[0]

    def _next_seq(self) -> int:
        self.counter += 1
        return self.counter
