"""Response models of the trading views (overview, positions, trades): each figure raw, for programs, and
formatted for people in `display` (strings the pages print as they are)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from dashboard.api_models import AlertRecord, ExecutionState, Health, Market
from dashboard.operations_models import LastDeploy


class PositionRow(BaseModel):
    """An open position with its protection; distances in % of the mark price (negative: already past)."""

    symbol: str
    side: str
    size: str
    entry_price: str
    mark_price: str
    unrealised_pnl: str
    take_profit: str  # "" when none
    stop_loss: str  # "" when none
    protected: bool  # a stop-loss is set
    tp_distance_pct: float | None
    sl_distance_pct: float | None
    updated_ns: int
    display: dict[str, str]
    raw: dict  # the position as execution keeps it (Bybit's fields)


class OrderRow(BaseModel):
    """An open order: `key` is its orderLinkId (or orderId), `display` its figures for people."""

    key: str
    symbol: str
    side: str
    created_ns: int
    display: dict[str, str]
    raw: dict  # the order as execution keeps it (Bybit's fields)


class PositionsView(BaseModel):
    positions: list[PositionRow]
    orders: list[OrderRow]


class RoundTrip(BaseModel):
    """A closed round trip: average entry and exit, P&L in USDT (net = gross - fees), holding time."""

    symbol: str
    side: str  # of the entry
    qty: str
    entry_price: str
    exit_price: str
    gross_pnl: str
    fees: str
    net_pnl: str
    outcome: Literal["win", "loss", "even"]
    opened_ns: int
    closed_ns: int
    holding_s: float
    fills: int
    signal: str  # the strategy's signal id, "manual", or the entry's orderLinkId
    entry_link: str
    display: dict[str, str]


class Trades(BaseModel):
    """Round trips closed on `day` (UTC, all days of the window when null), newest first, with totals."""

    day: str | None
    symbol: str | None
    outcome: str | None
    trips: list[RoundTrip]
    totals: dict[str, str]


class Equity(BaseModel):
    """The wallet's equity today against the daily-loss limit; `no_data` instead before the first reading."""

    limit_pct: float
    no_data: str | None = None
    equity: str | None = None
    day_start: str | None = None
    change: str | None = None
    drawdown_pct: float | None = None
    limit_used_pct: float | None = None  # drawdown as a share of the limit, 0..100
    killed: str | None = None  # why the kill switch stops entries until 00:00 UTC, "" when it does not
    ts_ns: int | None = None
    display: dict[str, str] = {}


class EquitySample(BaseModel):
    ts_ms: int  # the start of its bucket (UTC)
    equity: float  # the bucket's newest reading of the wallet's totalEquity (USDT)


class EquityCurve(BaseModel):
    """The wallet's equity over `period`, oldest first, one sample per `resolution_s`; `no_data` when none."""

    period: Literal["day", "week", "month", "year"]
    resolution_s: int
    samples: list[EquitySample]
    no_data: str | None
    display: dict[str, str]  # last, change, change_pct, high, low, since


class LastBackup(BaseModel):
    no_data: str | None = None
    outcome: str | None = None
    start_ts: float | None = None
    end_ts: float | None = None
    error: str | None = None
    bytes: int | None = None
    display: dict[str, str] = {}


class Overview(BaseModel):
    """Everything the overview shows: health, execution, equity, P&L today, positions, trades, alerts."""

    health: Health
    execution: ExecutionState | None
    equity: Equity
    pnl: dict[str, str]  # realised, unrealised, total (USDT, formatted) and no_data
    positions: list[PositionRow]
    trades: list[RoundTrip]
    alerts: list[AlertRecord]
    backup: LastBackup
    deploy: LastDeploy


class MarketView(Market):
    """The market summary by symbol, and each symbol's figures formatted for people."""

    display: dict[str, dict[str, str]]
