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
    """POST /v5/position/trading-stop: "0" cancels that side. `positionIdx` has no default: Bybit requires
    it (https://bybit-exchange.github.io/docs/v5/position/trading-stop), so it is always on the wire."""

    category: str
    symbol: str
    positionIdx: int
    takeProfit: str | None = None
    stopLoss: str | None = None
    tpTriggerBy: str | None = None
    slTriggerBy: str | None = None
    tpslMode: str | None = None
    tpSize: str | None = None  # Partial mode: the TP order's qty
    slSize: str | None = None  # Partial mode: the SL order's qty
    trailingStop: str | None = None  # trailing distance; "0" cancels
    activePrice: str | None = None  # the trailing stop starts once the price reaches this


class SwitchModeParams(msgspec.Struct, kw_only=True, omit_defaults=True):
    """POST /v5/position/switch-mode: mode 0 one-way, 3 hedge; for one symbol or every symbol of a coin."""

    category: str
    mode: int
    symbol: str | None = None
    coin: str | None = None


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
    trailingStop: str = "0"
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
