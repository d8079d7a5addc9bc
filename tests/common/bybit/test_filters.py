"""Quantities and prices rounded to the instrument's filters (pure)."""

from __future__ import annotations

import msgspec
import pytest

from common.bybit.schemas.instrument import InstrumentInfo, LeverageFilter, LotSizeFilter, PriceFilter
from common.bybit import filters

pytestmark = pytest.mark.unit

BTC = InstrumentInfo(
    symbol="BTCUSDT", contractType="LinearPerpetual", status="Trading", baseCoin="BTC", quoteCoin="USDT",
    settleCoin="USDT", launchTime="0", priceScale="1",
    leverageFilter=LeverageFilter(minLeverage="1", maxLeverage="100", leverageStep="0.01"),
    priceFilter=PriceFilter(minPrice="0.1", maxPrice="1999999", tickSize="0.1"),
    lotSizeFilter=LotSizeFilter(maxOrderQty="100", minOrderQty="0.001", qtyStep="0.001"))


def test_qty_rounds_down_to_the_step_and_respects_the_bounds():
    assert filters.qty(BTC, "0.0129") == "0.012"
    assert filters.qty(BTC, "250") == "100"
    with pytest.raises(filters.FilterError):
        filters.qty(BTC, "0.0009")


def test_price_rounds_to_the_nearest_tick():
    assert filters.price(BTC, "65000.06") == "65000.1"
    assert filters.price(BTC, "65000.04") == "65000.0"
    assert filters.price(BTC, None) is None and filters.price(BTC, "") is None


def test_a_market_close_is_split_at_max_mkt_order_qty():
    capped = msgspec.structs.replace(BTC, lotSizeFilter=LotSizeFilter(
        maxOrderQty="1190", minOrderQty="0.001", qtyStep="0.001", maxMktOrderQty="119"))
    assert filters.market_chunks(capped, "250.0005") == ["119.000", "119.000", "12.000"]
    assert filters.market_chunks(capped, "0.5") == ["0.500"]
    assert filters.market_chunks(BTC, "150") == ["100.000", "50.000"]  # no maxMktOrderQty listed: maxOrderQty
