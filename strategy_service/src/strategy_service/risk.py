"""The risk engine: position sizing, exposure and count limits, loss streaks, and the kill switch.

Equity starts at the profile's `equity_usdt` and moves with realised PnL and fees (USDT). The kill
switch trips on the daily loss limit (until the next UTC day of message time) or on the maximum
drawdown from the equity peak (until the operator resets it); while it is tripped nothing opens.
"""

from __future__ import annotations

import math

import msgspec

from strategy_service.profile import RiskParams

DAY_MS = 86_400_000


class RiskState(msgspec.Struct, kw_only=True):
    """What the risk engine has accounted, kept across restarts (exposure is rebuilt, not kept)."""

    equity: float
    peak: float
    day: int
    day_start: float
    losses_in_row: int
    paused_until_ms: int
    killed: str
    kills: int


class RiskEngine:
    __slots__ = ("p", "equity", "peak", "day", "day_start", "losses_in_row", "paused_until_ms",
                 "killed", "kills", "exposure")

    def __init__(self, params: RiskParams) -> None:
        self.p = params
        self.equity = params.equity_usdt
        self.peak = self.equity
        self.day = -1
        self.day_start = self.equity
        self.losses_in_row = 0
        self.paused_until_ms = 0
        self.killed = ""  # why the kill switch is tripped; "" when it is not
        self.kills = 0  # how many times it tripped, so a caller can alert once per trip
        self.exposure: dict[str, float] = {}  # symbol -> notional held or being entered, USDT

    def set_params(self, params: RiskParams) -> None:
        """A new profile's limits; equity, streaks and the kill switch carry over."""
        self.p = params

    def state(self) -> RiskState:
        return RiskState(**{k: getattr(self, k) for k in RiskState.__struct_fields__})

    def load(self, state: RiskState) -> None:
        for k in RiskState.__struct_fields__:
            setattr(self, k, getattr(state, k))

    def new_day(self, now_ms: int) -> None:
        day = now_ms // DAY_MS
        if day != self.day:
            self.day, self.day_start = day, self.equity
            if self.killed.startswith("daily"):
                self.killed = ""

    def reset_kill(self) -> None:
        self.killed, self.peak, self.day_start = "", self.equity, self.equity

    def blocked(self, *, now_ms: int, stale: bool, safe_mode: bool) -> str:
        """Why no entry may open now ("" when one may), before looking at its size."""
        if self.killed:
            return f"kill switch: {self.killed}"
        if safe_mode:
            return "safe mode"
        if stale:
            return "stale market data"
        if now_ms < self.paused_until_ms:
            return f"cooldown after {self.p.max_consecutive_losses} losses in a row"
        if len(self.exposure) >= self.p.max_open_positions:
            return f"max open positions ({self.p.max_open_positions}) reached"
        return ""

    def size(self, *, price: float, stop_distance: float, qty_step: float, min_qty: float) -> tuple[float, str]:
        """Quantity risking risk_per_trade_pct of equity at the stop, capped by exposure; or why none."""
        if price <= 0 or stop_distance <= 0:
            return 0.0, "no price"
        qty = self.equity * self.p.risk_per_trade_pct / 100 / stop_distance
        room = self.equity * self.p.max_exposure_pct / 100 - sum(self.exposure.values())
        qty = min(qty, room / price)
        qty = math.floor(qty / qty_step + 1e-9) * qty_step
        if qty < min_qty:
            return 0.0, "max exposure reached" if room / price < min_qty else "size below the minimum"
        return qty, ""

    def on_pnl(self, pnl: float, *, now_ms: int) -> None:
        """Realised PnL or a fee (negative) moved equity: update the peak and check the limits."""
        self.new_day(now_ms)
        self.equity += pnl
        self.peak = max(self.peak, self.equity)
        if self.killed:
            return
        daily = (self.day_start - self.equity) / self.day_start * 100
        drawdown = (self.peak - self.equity) / self.peak * 100
        if daily >= self.p.daily_loss_limit_pct:
            self._kill(f"daily loss {daily:.2f} % >= {self.p.daily_loss_limit_pct} %")
        elif drawdown >= self.p.max_drawdown_pct:
            self._kill(f"drawdown {drawdown:.2f} % >= {self.p.max_drawdown_pct} %")

    def on_trade_closed(self, pnl: float, *, now_ms: int) -> None:
        """A round trip ended with net PnL `pnl`: count the loss streak."""
        self.losses_in_row = self.losses_in_row + 1 if pnl < 0 else 0
        if self.losses_in_row >= self.p.max_consecutive_losses:
            self.paused_until_ms = now_ms + self.p.loss_cooldown_ms
            self.losses_in_row = 0

    def _kill(self, reason: str) -> None:
        self.killed = reason
        self.kills += 1
