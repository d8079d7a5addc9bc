"""`--instruments FILE`: instrument filters from a saved Bybit /v5/market/instruments-info reply.

The file may hold the whole reply, its `result`, or the bare `list`; each entry as Bybit writes it.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import msgspec
from common.bybit.errors import BybitError
from common.bybit.schemas.instrument import InstrumentInfo

from exchange_sim import engine as e


def load_instruments(path: Path) -> dict[str, e.Instrument]:
    """Symbol -> filters; raises ValueError naming the file and what is wrong with it."""
    try:
        doc = msgspec.json.decode(path.read_bytes())
    except (OSError, msgspec.DecodeError) as err:
        raise ValueError(f"{path}: {err}") from None
    if isinstance(doc, dict):
        doc = doc.get("result", doc)
        doc = doc.get("list") if isinstance(doc, dict) else None
    try:
        return {i.symbol: _instrument(i) for i in msgspec.convert(doc, list[InstrumentInfo])}
    except (msgspec.ValidationError, ArithmeticError, ValueError, BybitError) as err:
        raise ValueError(f"{path}: not a Bybit instruments-info list: {err}") from None


def _instrument(info: InstrumentInfo) -> e.Instrument:
    tick, step = Decimal(info.priceFilter.tickSize), Decimal(info.lotSizeFilter.qtyStep)
    if tick <= 0 or step <= 0:
        raise ValueError(f"{info.symbol}: tickSize and qtyStep must be positive")
    start = e.default_instrument(info.symbol).reference_price  # where a generated path would start
    return e.Instrument(
        symbol=info.symbol, base_coin=info.baseCoin, quote_coin=info.quoteCoin, tick_size=tick, qty_step=step,
        min_qty=Decimal(info.lotSizeFilter.minOrderQty), max_qty=Decimal(info.lotSizeFilter.maxOrderQty),
        min_notional=Decimal(info.lotSizeFilter.minNotionalValue or "5"),
        max_mkt_qty=Decimal(info.lotSizeFilter.maxMktOrderQty) if info.lotSizeFilter.maxMktOrderQty else None,
        max_leverage=Decimal(info.leverageFilter.maxLeverage), price_scale=int(info.priceScale),
        reference_price=max(tick, (start / tick).to_integral_value() * tick))
