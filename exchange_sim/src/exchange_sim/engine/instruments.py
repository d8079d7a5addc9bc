"""Instrument filters (tick, lot, limits) for linear USDT perpetuals: plausible defaults per symbol, or
the filters a recording implies."""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from common.bybit.constants import PARAMS_ERROR, PRICE_DECIMALS, QTY_DECIMALS, QTY_TOO_LARGE, QTY_TOO_SMALL
from common.bybit.errors import BybitError
from exchange_sim.engine.events import BookUpdate, MarketEvent, TradeTick


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
    # Bybit's maxMktOrderQty, a tenth of maxOrderQty on its listings; None: that tenth
    # (https://bybit-exchange.github.io/docs/v5/market/instrument, lotSizeFilter).
    max_mkt_qty: Decimal | None = None

    @property
    def max_market_qty(self) -> Decimal:
        if self.max_mkt_qty is not None:
            return self.max_mkt_qty
        return (self.max_qty / 10 / self.qty_step).to_integral_value() * self.qty_step

    def check_price(self, price: Decimal) -> None:
        """Raise 170134 unless `price` is a positive multiple of the tick size."""
        if price <= 0:
            raise BybitError(PARAMS_ERROR, f"price {price} must be positive")
        if price % self.tick_size:
            raise BybitError(PRICE_DECIMALS,
                                f"price {price} is not a multiple of tickSize {self.tick_size}")

    def check_qty(self, qty: Decimal) -> None:
        """Raise 170136/170137/170135 when `qty` breaks the lot filter."""
        if qty < self.min_qty:
            raise BybitError(QTY_TOO_SMALL, f"qty {qty} is below minOrderQty {self.min_qty}")
        if qty % self.qty_step:
            raise BybitError(QTY_DECIMALS, f"qty {qty} is not a multiple of qtyStep {self.qty_step}")
        if qty > self.max_qty:
            raise BybitError(QTY_TOO_LARGE, f"qty {qty} is above maxOrderQty {self.max_qty}")

    def check_market_qty(self, qty: Decimal) -> None:
        """A Market order above maxMktOrderQty is refused with 10001, in the words Bybit uses
        (https://github.com/bybit-exchange/pybit/issues/284 shows the reply)."""
        if qty > self.max_market_qty:
            raise BybitError(PARAMS_ERROR, "The number of contracts exceeds maximum limit allowed: too large, "
                                           f"order_qty:{qty} > max_mkt_qty:{self.max_market_qty}")


_KNOWN = {
    "BTCUSDT": dict(tick="0.10", step="0.001", max_qty="1190.000", lev="100", price="75000"),
    "ETHUSDT": dict(tick="0.01", step="0.01", max_qty="7240.00", lev="100", price="3200"),
    "SOLUSDT": dict(tick="0.010", step="0.1", max_qty="79770.0", lev="100", price="150"),
}


def default_instrument(symbol: str) -> Instrument:
    """BTC/ETH/SOL as Bybit lists them; any other symbol gets filters derived from its name."""
    _check_symbol(symbol)
    spec = _KNOWN.get(symbol)
    if spec is None:
        spec = _derived(symbol)
    return _instrument(symbol, tick=Decimal(spec["tick"]), step=Decimal(spec["step"]),
                       max_qty=Decimal(spec["max_qty"]), leverage=Decimal(spec["lev"]),
                       price=Decimal(spec["price"]))


def recorded_instruments(events: Iterable[MarketEvent]) -> dict[str, Instrument]:
    """Filters for every symbol of a recording. BTC/ETH/SOL keep Bybit's listing; for any other symbol a
    name says nothing about its price, but Bybit prints prices with priceScale decimals and sizes with
    qtyStep's, so the most decimals recorded give the tick (10**-scale) and the lot step."""
    price_dp: dict[str, int] = {}
    size_dp: dict[str, int] = {}
    first_price: dict[str, Decimal] = {}
    for event in events:
        if type(event) is TradeTick:
            prices, sizes = [event.price], [event.size]
        elif type(event) is BookUpdate:
            levels = event.bids + event.asks
            prices, sizes = [p for p, _ in levels], [q for _, q in levels]
        else:
            prices, sizes = [p for p in (event.mark_price, event.index_price) if p is not None], []
        symbol = event.symbol
        price_dp[symbol] = max([price_dp.get(symbol, 0), *map(_decimals, prices)])
        size_dp[symbol] = max([size_dp.get(symbol, 0), *map(_decimals, sizes)])
        if prices and symbol not in first_price:
            first_price[symbol] = prices[0]
    out = {}
    for symbol, dp in price_dp.items():
        if symbol in _KNOWN:
            out[symbol] = default_instrument(symbol)
            continue
        _check_symbol(symbol)
        tick, step = Decimal(1).scaleb(-dp), Decimal(1).scaleb(-size_dp[symbol])
        out[symbol] = _instrument(symbol, tick=tick, step=step, max_qty=step * 10_000_000,
                                  leverage=Decimal(50), price=first_price.get(symbol, tick))
    return out


def _check_symbol(symbol: str) -> None:
    if not symbol.endswith("USDT") or len(symbol) < 5:
        raise BybitError(PARAMS_ERROR, f"symbol {symbol} is not a USDT perpetual")


def _instrument(symbol: str, *, tick: Decimal, step: Decimal, max_qty: Decimal, leverage: Decimal,
            price: Decimal) -> Instrument:
    return Instrument(
        symbol=symbol,
        base_coin=symbol[:-4],
        quote_coin="USDT",
        tick_size=tick,
        qty_step=step,
        min_qty=step,
        max_qty=max_qty,
        min_notional=Decimal("5"),
        max_leverage=leverage,
        price_scale=-tick.as_tuple().exponent,
        reference_price=price,
    )


def _decimals(value: Decimal) -> int:
    """Digits after the point as written: "0.0500" -> 4, "12" -> 0."""
    return max(0, -value.as_tuple().exponent)


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
