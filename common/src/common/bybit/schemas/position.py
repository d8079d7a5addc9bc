"""Positions: /v5/position/* requests and results, and the private `position` topic."""

from __future__ import annotations

from common.bybit.enums import Category
import msgspec


class SetLeverageParams(msgspec.Struct, kw_only=True):
    """POST /v5/position/set-leverage (one-way mode: both sides the same)."""

    category: str
    symbol: str
    buyLeverage: str
    sellLeverage: str


class TradingStopParams(msgspec.Struct, kw_only=True, omit_defaults=True):
    """POST /v5/position/trading-stop: "0" cancels that side."""

    category: str
    symbol: str
    takeProfit: str | None = None
    stopLoss: str | None = None
    tpTriggerBy: str | None = None
    slTriggerBy: str | None = None
    tpslMode: str | None = None
    positionIdx: int = 0


class Position(msgspec.Struct, kw_only=True):
    """A position as /v5/position/list and the `position` topic show it; side "" is flat."""

    symbol: str
    side: str
    size: str
    avgPrice: str = ""  # REST; the WS topic sends entryPrice instead
    positionValue: str
    leverage: str
    markPrice: str
    unrealisedPnl: str
    cumRealisedPnl: str
    takeProfit: str = "0"
    stopLoss: str = "0"
    tpTriggerBy: str = ""
    slTriggerBy: str = ""
    positionIM: str = "0"  # initial margin
    positionMM: str = "0"  # maintenance margin
    liqPrice: str = ""
    positionIdx: int = 0
    tradeMode: int = 0  # 0 cross margin
    positionStatus: str = "Normal"
    entryPrice: str = ""
    createdTime: str = ""
    updatedTime: str = ""
    category: str = Category.LINEAR
