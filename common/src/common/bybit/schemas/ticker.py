"""Tickers: GET /v5/market/tickers and the `tickers.{symbol}` topic (linear fields)."""

from __future__ import annotations

import msgspec


class Ticker(msgspec.Struct, kw_only=True):
    """A linear ticker. In WS deltas only changed fields arrive, so every field defaults to ""."""

    symbol: str
    lastPrice: str = ""
    indexPrice: str = ""
    markPrice: str = ""
    prevPrice24h: str = ""
    price24hPcnt: str = ""
    highPrice24h: str = ""
    lowPrice24h: str = ""
    prevPrice1h: str = ""
    openInterest: str = ""
    openInterestValue: str = ""
    turnover24h: str = ""
    volume24h: str = ""
    fundingRate: str = ""
    nextFundingTime: str = ""
    bid1Price: str = ""
    bid1Size: str = ""
    ask1Price: str = ""
    ask1Size: str = ""
    tickDirection: str = ""  # WS only
