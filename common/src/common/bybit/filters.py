"""Quantities and prices rounded to an instrument's lot-size and price filters, before they reach Bybit:
live in the execution service, and in the replay against the simulator's instruments."""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

from common.bybit.schemas.instrument import InstrumentInfo


class FilterError(ValueError):
    """An order that no rounding can make valid (e.g. below the minimum quantity)."""


def to_step(value: Decimal, step: Decimal, rounding: str) -> Decimal:
    """`value` on the grid of `step`, rounded as asked."""
    return ((value / step).to_integral_value(rounding=rounding) * step).quantize(step)


def qty(info: InstrumentInfo, value: str) -> str:
    """Down to a multiple of qtyStep (never more than asked), within min/max."""
    lot = info.lotSizeFilter
    q = to_step(Decimal(value), Decimal(lot.qtyStep), ROUND_DOWN)
    if q < Decimal(lot.minOrderQty):
        raise FilterError(f"qty {value} below the minimum {lot.minOrderQty} of {info.symbol}")
    return str(min(q, Decimal(lot.maxOrderQty)))


def price(info: InstrumentInfo, value: str | None) -> str | None:
    """To the nearest tickSize; None and "" pass through (no price)."""
    if not value:
        return None
    p = to_step(Decimal(value), Decimal(info.priceFilter.tickSize), ROUND_HALF_UP)
    if p <= 0:
        raise FilterError(f"price {value} rounds to nothing on {info.symbol}")
    return str(p)


def market_chunks(info: InstrumentInfo, value: str) -> list[str]:
    """A Market order's `value` as orders Bybit accepts: none above maxMktOrderQty
    (https://bybit-exchange.github.io/docs/v5/market/instrument, lotSizeFilter), each on the qtyStep grid."""
    step = Decimal(info.lotSizeFilter.qtyStep)
    cap = Decimal(info.lotSizeFilter.maxMktOrderQty or info.lotSizeFilter.maxOrderQty)
    left = to_step(Decimal(value), step, ROUND_DOWN)
    if cap <= 0:
        raise FilterError(f"{info.symbol} lists no market order size")
    chunks = []
    while left > 0:
        take = min(left, cap)
        chunks.append(str(take.quantize(step)))
        left -= take
    return chunks
