"""One USDT account with one-way positions: fills, fees, realised/unrealised PnL, margin, liquidation price.

Each position keeps its exact entry value (sum of price * qty still open) rather than an average, so
unrealised PnL (`size * mark - entry_value` for a long) and the realised PnL of a partial close
(the close's value minus the matching share of entry value) add up without rounding drift.
"""

from __future__ import annotations

from common.bybit.enums import Side, TriggerBy
from dataclasses import dataclass
from decimal import Decimal

from exchange_sim.engine.instruments import Instrument
from exchange_sim.engine.records import ZERO, Position, Wallet

DEFAULT_LEVERAGE = Decimal(10)
MAINTENANCE_RATE = Decimal("0.005")  # Bybit's first risk-limit tier for BTC/ETH linear
# The entry value a partial close takes off is rounded to this, so every amount in the books has at most
# 12 decimals and sums of them stay exact within Decimal's 28 digits (no drift between the identities).
PNL_QUANTUM = Decimal("1e-12")


@dataclass(slots=True)
class Holding:
    """The mutable state behind one symbol's Position record."""

    symbol: str
    direction: int = 0  # +1 long, -1 short, 0 flat
    size: Decimal = ZERO
    entry_value: Decimal = ZERO
    leverage: Decimal = DEFAULT_LEVERAGE
    realised_net: Decimal = ZERO  # closed PnL minus fees on this symbol (Bybit's cumRealisedPnl)
    take_profit: Decimal = ZERO
    stop_loss: Decimal = ZERO
    tp_trigger_by: str = TriggerBy.LAST_PRICE
    sl_trigger_by: str = TriggerBy.LAST_PRICE
    trailing_stop: Decimal = ZERO  # trailing distance, 0: none
    trail_active_price: Decimal = ZERO  # the trailing stop starts once the price reaches this (0: at once)
    trail_peak: Decimal = ZERO  # best price since the trailing stop started (0: not started)
    created_ms: int = 0
    updated_ms: int = 0

    def unrealised(self, mark: Decimal) -> Decimal:
        return self.direction * (self.size * mark - self.entry_value) if self.direction else ZERO


class Account:
    """Cash, fees and holdings; `cash = initial balance + closed PnL` and `balance = cash - fees`."""

    def __init__(self, *, balance: Decimal, instruments: dict[str, Instrument]) -> None:
        self.initial = balance
        self.realised = ZERO  # closed PnL before fees, all symbols
        self.fees = ZERO
        self.cover = ZERO  # losses the insurance fund took so the balance stays >= 0
        self.instruments = instruments
        self.holdings = {s: Holding(symbol=s) for s in instruments}
        self.open: dict[str, Holding] = {}  # the non-flat holdings: per-event checks touch only these
        self._margins: tuple[Decimal, Decimal] | None = None  # (IM, MM) until a fill or leverage change

    @property
    def balance(self) -> Decimal:
        return self.initial + self.realised - self.fees

    def fill(self, *, symbol: str, side: str, qty: Decimal, price: Decimal, fee_rate: Decimal,
             now_ms: int) -> tuple[Decimal, Decimal]:
        """Book one fill; returns (closed size, fee). A loss the balance cannot pay is covered, not owed."""
        h = self.holdings[symbol]
        direction = 1 if side == Side.BUY else -1
        closed = ZERO
        pnl = ZERO
        if h.direction == -direction:
            closed = min(qty, h.size)
            share = h.entry_value
            if closed != h.size:
                share = (h.entry_value * closed / h.size).quantize(PNL_QUANTUM)
            pnl = h.direction * (price * closed - share)
            h.entry_value -= share
            h.size -= closed
            if not h.size:
                h.direction, h.entry_value = 0, ZERO
                h.take_profit = h.stop_loss = h.trailing_stop = h.trail_active_price = h.trail_peak = ZERO
                del self.open[symbol]
        opened = qty - closed
        if opened:
            if not h.direction:
                h.direction, h.created_ms = direction, now_ms
                self.open[symbol] = h
            h.size += opened
            h.entry_value += price * opened
        fee = price * qty * fee_rate
        self.fees += fee
        self.realised += pnl
        h.realised_net += pnl - fee
        if self.balance < 0:
            short = -self.balance
            self.cover += short
            self.realised += short
            h.realised_net += short
        h.updated_ms = now_ms
        self._margins = None
        return closed, fee

    def set_leverage(self, *, symbol: str, leverage: Decimal, now_ms: int) -> None:
        h = self.holdings[symbol]
        h.leverage, h.updated_ms = leverage, now_ms
        self._margins = None

    def unrealised(self, marks: dict[str, Decimal]) -> Decimal:
        return sum((h.unrealised(marks[s]) for s, h in self.open.items()), ZERO)

    def margins(self) -> tuple[Decimal, Decimal]:
        """(total initial margin, total maintenance margin) of the open positions."""
        if self._margins is None:
            im = mm = ZERO
            for h in self.open.values():
                im += h.entry_value / h.leverage
                mm += h.entry_value * MAINTENANCE_RATE
            self._margins = im, mm
        return self._margins

    def wallet(self, *, marks: dict[str, Decimal], order_im: Decimal) -> Wallet:
        upnl = self.unrealised(marks)
        im, _ = self.margins()
        equity = self.balance + upnl
        return Wallet(
            coin="USDT",
            wallet_balance=self.balance or ZERO,  # `or ZERO`: a zero renders "0", not "0E-12"
            equity=equity or ZERO,
            unrealised_pnl=upnl,
            cum_realised_pnl=self.realised,
            available_balance=max(ZERO, equity - im - order_im),
            total_position_im=im,
            total_order_im=order_im,
            fees_paid=self.fees,
            cash=self.initial + self.realised,
            bankruptcy_cover=self.cover,
        )

    def position(self, *, symbol: str, marks: dict[str, Decimal]) -> Position:
        h = self.holdings[symbol]
        tick = self.instruments[symbol].tick_size
        mark = marks[symbol]
        avg = (h.entry_value / h.size).quantize(tick / 10000) if h.size else ZERO
        return Position(
            symbol=symbol,
            side={1: Side.BUY, -1: Side.SELL, 0: ""}[h.direction],
            size=h.size,
            avg_price=avg,
            leverage=h.leverage,
            position_value=h.entry_value,
            mark_price=mark,
            unrealised_pnl=h.unrealised(mark),
            cum_realised_pnl=h.realised_net,
            take_profit=h.take_profit,
            stop_loss=h.stop_loss,
            tp_trigger_by=h.tp_trigger_by,
            sl_trigger_by=h.sl_trigger_by,
            position_im=h.entry_value / h.leverage if h.size else ZERO,
            position_mm=h.entry_value * MAINTENANCE_RATE,
            liq_price=self._liq_price(h, marks, tick),
            created_ms=h.created_ms,
            updated_ms=h.updated_ms,
            trailing_stop=h.trailing_stop,
        )

    def flat_position(self, *, symbol: str, marks: dict[str, Decimal]) -> Position:
        """A side not held: size 0, the symbol's leverage and mark (hedge mode lists both sides)."""
        h = self.holdings[symbol]
        return Position(symbol=symbol, side="", size=ZERO, avg_price=ZERO, leverage=h.leverage,
                        position_value=ZERO, mark_price=marks[symbol], unrealised_pnl=ZERO, cum_realised_pnl=ZERO,
                        take_profit=ZERO, stop_loss=ZERO, tp_trigger_by=TriggerBy.LAST_PRICE,
                        sl_trigger_by=TriggerBy.LAST_PRICE,
                        position_im=ZERO, position_mm=ZERO, liq_price=ZERO, created_ms=h.created_ms,
                        updated_ms=h.updated_ms)

    def in_liquidation(self, marks: dict[str, Decimal]) -> bool:
        """Cross margin: the account is liquidated once equity falls to the maintenance margin."""
        _, mm = self.margins()
        return mm > 0 and self.balance + self.unrealised(marks) <= mm

    def _liq_price(self, h: Holding, marks: dict[str, Decimal], tick: Decimal) -> Decimal:
        """The mark of this symbol at which equity would meet maintenance margin, others unchanged."""
        if not h.direction:
            return ZERO
        _, mm = self.margins()
        rest = self.balance + self.unrealised(marks) - h.unrealised(marks[h.symbol])
        price = (h.entry_value + h.direction * (mm - rest)) / h.size
        return max(ZERO, (price / tick).to_integral_value() * tick)
