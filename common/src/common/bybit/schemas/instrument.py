"""Instruments: GET /v5/market/instruments-info (linear), with the filters orders must satisfy."""

from __future__ import annotations

import msgspec


class LeverageFilter(msgspec.Struct, kw_only=True):
    minLeverage: str
    maxLeverage: str
    leverageStep: str


class PriceFilter(msgspec.Struct, kw_only=True):
    minPrice: str
    maxPrice: str
    tickSize: str  # every price is a multiple of this


class LotSizeFilter(msgspec.Struct, kw_only=True):
    maxOrderQty: str
    minOrderQty: str
    qtyStep: str  # every qty is a multiple of this
    postOnlyMaxOrderQty: str = ""
    maxMktOrderQty: str = ""
    minNotionalValue: str = ""  # qty * price must reach this (USDT)


class InstrumentInfo(msgspec.Struct, kw_only=True):
    symbol: str
    contractType: str  # LinearPerpetual
    status: str  # Trading
    baseCoin: str
    quoteCoin: str
    settleCoin: str
    launchTime: str
    priceScale: str  # decimals of the price
    leverageFilter: LeverageFilter
    priceFilter: PriceFilter
    lotSizeFilter: LotSizeFilter
    fundingInterval: int = 480  # minutes
