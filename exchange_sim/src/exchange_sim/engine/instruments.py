"""Instrument filters (tick, lot, limits) for linear USDT perpetuals, and plausible defaults per symbol."""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from decimal import Decimal

from exchange_sim.engine.errors import (
    PARAMS,
    PRICE_PRECISION,
    QTY_PRECISION,
    QTY_TOO_LARGE,
    QTY_TOO_SMALL,
    ExchangeError,
)


@dataclass(frozen=True)
class Instrument:
    """One linear perpetual's filters, as Bybit's instruments-info reports them."""

    symbol: str
    base_coin: str
    quote_coin: str
    tick_size: Decimal
    qty_step: Decimal
    min_qty: Decimal
    max_qty: Decimal
    min_notional: Decimal
    max_leverage: Decimal
    price_scale: int
    reference_price: Decimal = Decimal("100")  # where the generator starts this symbol's price path

    def check_price(self, price: Decimal) -> None:
        """Raise 170134 unless `price` is a positive multiple of the tick size."""
        if price <= 0:
            raise ExchangeError(PARAMS, f"price {price} must be positive")
        if price % self.tick_size:
            raise ExchangeError(PRICE_PRECISION,
                                f"price {price} is not a multiple of tickSize {self.tick_size}")

    def check_qty(self, qty: Decimal) -> None:
        """Raise 170136/170137/170135 when `qty` breaks the lot filter."""
        if qty < self.min_qty:
            raise ExchangeError(QTY_TOO_SMALL, f"qty {qty} is below minOrderQty {self.min_qty}")
        if qty % self.qty_step:
            raise ExchangeError(QTY_PRECISION, f"qty {qty} is not a multiple of qtyStep {self.qty_step}")
        if qty > self.max_qty:
            raise ExchangeError(QTY_TOO_LARGE, f"qty {qty} is above maxOrderQty {self.max_qty}")


_KNOWN = {
    "BTCUSDT": dict(tick="0.10", step="0.001", max_qty="1190.000", lev="100", price="75000"),
    "ETHUSDT": dict(tick="0.01", step="0.01", max_qty="7240.00", lev="100", price="3200"),
    "SOLUSDT": dict(tick="0.010", step="0.1", max_qty="79770.0", lev="100", price="150"),
}


def default_instrument(symbol: str) -> Instrument:
    """BTC/ETH/SOL as Bybit lists them; any other symbol gets filters derived from its name."""
    if not symbol.endswith("USDT") or len(symbol) < 5:
        raise ExchangeError(PARAMS, f"symbol {symbol} is not a USDT perpetual")
    spec = _KNOWN.get(symbol)
    if spec is None:
        spec = _derived(symbol)
    tick = Decimal(spec["tick"])
    step = Decimal(spec["step"])
    return Instrument(
        symbol=symbol,
        base_coin=symbol[:-4],
        quote_coin="USDT",
        tick_size=tick,
        qty_step=step,
        min_qty=step,
        max_qty=Decimal(spec["max_qty"]),
        min_notional=Decimal("5"),
        max_leverage=Decimal(spec["lev"]),
        price_scale=-tick.as_tuple().exponent,
        reference_price=Decimal(spec["price"]),
    )


def _derived(symbol: str) -> dict[str, str]:
    """A price of 0.01 to 9000 picked from the name's CRC, a tick ~1e-4 of it, a lot worth 1-9 USDT."""
    crc = zlib.crc32(symbol.encode())
    magnitude = crc % 6 - 2  # 10**-2 .. 10**3: ticks stay >= 1e-6, which str() renders without an exponent
    mantissa = Decimal(1 + crc // 6 % 9)
    price = mantissa.scaleb(magnitude)
    tick = Decimal(1).scaleb(magnitude - 4)
    step = Decimal(1).scaleb(max(-3, -magnitude))
    return dict(tick=f"{tick:f}", step=f"{step:f}", max_qty=f"{step * 10_000_000:f}", lev="50",
                price=f"{price:f}")
