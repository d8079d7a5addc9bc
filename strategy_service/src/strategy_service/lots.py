"""Instrument lot filters, and prices and quantities rounded to them as the exchange wants them."""

from __future__ import annotations

from decimal import Decimal

import msgspec


class Lot(msgspec.Struct, frozen=True, kw_only=True):
    """An instrument's price tick and lot filters."""

    tick: float
    qty_step: float
    min_qty: float


def guess(price: str, *, qty_step: float, min_qty: float) -> Lot:
    """Without instrument data: the tick from the book's price digits, the lot from the profile."""
    return Lot(tick=10.0 ** -len(price.partition(".")[2]), qty_step=qty_step, min_qty=min_qty)


def fmt(value: float, step: float) -> str:
    """value rounded to a multiple of step, printed with step's decimals (no float noise)."""
    digits = max(0, -Decimal(repr(step)).normalize().as_tuple().exponent)
    return f"{round(value / step) * step:.{digits}f}"
