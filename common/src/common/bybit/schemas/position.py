"""Positions: /v5/position/* requests and results, and the private `position` topic."""

from __future__ import annotations

from common.bybit.enums import Category
import msgspec

from common.schemas.execution import PositionEvent


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

    def to_position_event(self, *, ts_ns: int) -> PositionEvent:
        """The `exec.events` message of this position (REST gives avgPrice, the topic entryPrice)."""
        return PositionEvent(
            symbol=self.symbol, side=self.side, size=self.size, entry_price=self.entryPrice or self.avgPrice,
            take_profit=self.takeProfit, stop_loss=self.stopLoss, unrealised_pnl=self.unrealisedPnl or "0",
            realised_pnl=self.cumRealisedPnl or "0", ts_ns=ts_ns)
