"""Candles: GET /v5/market/kline (rows of strings) and the `kline.{interval}.{symbol}` topic."""

from __future__ import annotations

import builtins

import msgspec

# REST row: [startTime ms, open, high, low, close, volume, turnover], newest first.
KlineRow = tuple[str, str, str, str, str, str, str]


class KlineResult(msgspec.Struct, kw_only=True):
    symbol: str
    category: str
    list: builtins.list[KlineRow]  # Bybit names the field `list`, shadowing the builtin here


class Kline(msgspec.Struct, kw_only=True):
    """One candle in a `kline` frame; `confirm` is true once the candle has closed."""

    start: int  # ms
    end: int  # ms
    interval: str  # "1" = 1 minute
    open: str
    close: str
    high: str
    low: str
    volume: str
    turnover: str
    confirm: bool
    timestamp: int  # ms of the last update
