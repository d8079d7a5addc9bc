"""What each JSON API route answers, as pydantic models: the OpenAPI schema documents it and FastAPI checks
every read against it. Here: health and services, safe mode, trading, latency, strategy and alerts; the
operations' pages (jobs, deploys, configuration, scenarios, sessions) are in `operations_models`, and what
an action answers (checked by schemathesis) in `action_models`.

Imports nothing above it in the dashboard (routes, app, the engines, state readers): the shapes it passes
on as they are come from `records` and are mirrored by `struct_models`, both below it.

Shapes other services write to Redis (execution state, recovery plans, the market summary) allow extra
keys, so a field added there does not break the dashboard; maps keyed by data (symbols, services,
settings) are dict[str, ...]. A figure that is undefined (a ratio of nothing) is null, never 0.
"""

from __future__ import annotations

from typing import Literal

from common.bybit.schemas.order import Order
from common.bybit.schemas.position import Position
from common.config import ExecutionMode
from common.schemas import Signal, Status
from pydantic import BaseModel, ConfigDict, Field

from common import constants as c

from dashboard.records import AlertRecord
from dashboard.struct_mirror import mirror

# A latency bound or quantile: seconds (or the histogram's unit), or Prometheus' unbounded "+Inf".
Bound = float | Literal["+Inf"]


class OtherServiceShape(BaseModel):
    """Written by another service: keys it adds later are passed on, not refused."""

    model_config = ConfigDict(extra="allow")


class Problem(BaseModel):
    """Why a request was refused."""

    detail: str


REFUSALS = {
    400: "bad input, named in `detail`",
    403: "viewers cannot act; a missing or wrong CSRF token",
    404: "no such thing to act on",
    409: "it cannot be done now, `detail` says why",
}


def refusals(*codes: int) -> dict[int | str, dict]:
    """The `responses=` of a route that refuses with these codes."""
    return {code: {"model": Problem, "description": REFUSALS[code]} for code in codes}


# --- liveness, health and services ---


class Liveness(BaseModel):
    """/healthz: the dashboard's monitor is receiving heartbeats ("ok"), or not for too long ("stale")."""

    status: Literal["ok", "stale"]
    last_heartbeat_age_s: float


class ServiceRow(BaseModel):
    """One service as its heartbeats show it; null facts before its first heartbeat."""

    name: str
    status: Status
    reason: str
    restarts: int
    status_since_ns: int
    pid: int | None
    version: str | None
    release: str | None  # the release commit it runs ("" when it does not say; null before a heartbeat)
    uptime_s: float | None
    last_heartbeat_age_s: float | None
    safe_mode: bool | None
    consumer_lag: dict[str, int]  # stream -> entries not yet delivered to the service's group
    last_error: str
    details: dict[str, str]  # service-specific facts from its heartbeat
    supervisor: str  # "systemd", "supervisord" or "" when nothing would start it again


class Health(BaseModel):
    """Every service GREEN / YELLOW / RED, the worst of them, the mode, safe mode and the header's badges."""

    cluster: str
    mode: ExecutionMode
    overall: Status
    services: list[ServiceRow]
    ts_ns: int
    alerts_unacked: int
    operator_safe_mode: bool
    release: str  # the header's: what every service runs, "mixed: a, b" while they differ, "" before any beat


class ProcessFacts(BaseModel):
    """The service's process, as its heartbeat reports it."""

    model_config = ConfigDict(extra="forbid")
    rss_mb: float
    cpu_s: float
    threads: int


class NoProcessFacts(BaseModel):
    """No heartbeat yet, or one from a version that does not report its process."""

    model_config = ConfigDict(extra="forbid")


class ServiceProcess(ServiceRow):
    """A service row with its process facts and why it cannot be restarted from here ("" when it can)."""

    start_ts_ns: int
    process: ProcessFacts | NoProcessFacts
    running: str  # version and release for people: "0.1.0 @ 1a2b3c4d5e6f" ("" before a heartbeat)
    restart_refusal: str


class Services(BaseModel):
    services: list[ServiceProcess]


# --- safe mode and recovery ---


class ExecutionState(OtherServiceShape):
    """The execution service's state and what holds it SAFE (hold -> reason)."""

    state: Literal["NORMAL", "SAFE", "RECOVERING"]
    reason: str
    holds: dict[str, str]
    ts_ns: int


class RecoveryStep(OtherServiceShape):
    name: str
    start_ns: int
    end_ns: int
    outcome: str  # running | ok | failed
    detail: str


class RecoveryPlan(OtherServiceShape):
    """One recovery of the execution service, step by step."""

    plan_id: str
    trigger: str
    start_ns: int
    end_ns: int
    outcome: str
    steps: list[RecoveryStep]


class SafeMode(BaseModel):
    """Operator safe mode, the execution state (null before execution wrote one) and recent recoveries."""

    operator_safe_mode: bool
    execution: ExecutionState | None
    reconcile_waits: str  # why a reconciliation would wait now, or ""
    recovery_plans: list[RecoveryPlan]


# --- trading ---

BybitOrder = mirror(Order, "BybitOrder")
BybitPosition = mirror(Position, "BybitPosition")


class Positions(BaseModel):
    """Open positions by symbol and open orders by orderLinkId, as Bybit describes them."""

    positions: dict[str, BybitPosition]
    orders: dict[str, BybitOrder]


class MarketSummary(OtherServiceShape):
    """One symbol as the market service summarises it; bid/ask/spread null before the book has both sides."""

    symbol: str
    last_price: str
    bid: float | None
    ask: float | None
    spread: float | None
    spread_bps: float | None
    latency_ms: float
    stale: str  # why the book is not trustworthy, "" when it is
    u: int
    exchange_ts_ns: int
    updated_ts_ns: int


class Market(BaseModel):
    symbols: dict[str, MarketSummary]


class QualityFigures(BaseModel):
    """Lifetime sums (whichever execution keeps, e.g. orders, fills, fees) and the ratios derived from them,
    null where the denominator is zero."""

    model_config = ConfigDict(extra="allow")
    __pydantic_extra__: dict[str, float]
    fill_ratio: float | None
    maker_share: float | None
    slippage_bps: float | None
    ttff_s_mean: float | None
    ack_s_mean: float | None


class Quality(BaseModel):
    symbols: dict[str, QualityFigures]


class QualityBucket(BaseModel):
    """One 5-minute bucket: its start (epoch s), the sums a chart reads (0 when absent) and the ratios."""

    t: int
    orders: float
    fills: float
    fill_qty: float
    fees: float
    notional: float
    fill_ratio: float | None
    maker_share: float | None
    slippage_bps: float | None
    ttff_s_mean: float | None
    ack_s_mean: float | None


class QualityHistory(BaseModel):
    """Buckets per symbol over the last 24 h, oldest first; `from`/`to` are the first and last starts."""

    bucket_s: int
    from_: int = Field(alias="from")
    to: int
    symbols: dict[str, list[QualityBucket]]


class SymbolPnl(BaseModel):
    realised_pnl: str
    baseline: str  # "before 00:00 UTC" ("before Monday 00:00 UTC" for the week), or "none: from 0" when the stream holds nothing older


class PnlToday(BaseModel):
    """Realised P&L since 00:00 UTC net of fees (decimal strings), per symbol and in total."""

    since_ns: int
    realised_pnl: str
    fees: str
    fills: int
    symbols: dict[str, SymbolPnl]


class NoPnlToday(BaseModel):
    """No fill or position event since 00:00 UTC: why there is no figure."""

    since_ns: int
    no_data: str


# --- latency ---


class BucketCount(BaseModel):
    """Samples in one bucket (not cumulative), up to its bound."""

    le: Bound
    count: float


class Histogram(BaseModel):
    """One histogram series: its labels, sample count, p50/p90/p99 (bucket upper bounds) and distribution."""

    labels: dict[str, str]
    count: float
    name: str
    p50: Bound | None
    p90: Bound | None
    p99: Bound | None
    buckets: list[BucketCount]


class ServiceLatency(BaseModel):
    error: str  # why there are no histograms (metrics off, unreachable), "" when scraped
    histograms: list[Histogram]


class LatencyStage(BaseModel):
    stage: str
    service: str
    histogram: Histogram | None  # null before the stage's first sample


class Latency(BaseModel):
    """Per service its histograms; execution's tick-to-order series on its own, null before any order, and
    the stages of tick-to-order in path order."""

    services: dict[str, ServiceLatency]
    tick_to_order: Histogram | None
    chain: list[LatencyStage]


# --- strategy ---

SignalRow = mirror(Signal, "Signal")


class Signals(BaseModel):
    signals: list[SignalRow]


class Profile(BaseModel):
    """The strategy's active profile as its heartbeat reports it; "" before the first one."""

    profile: str
    profile_version: str
    kill_switch: str
    equity_usdt: str


class ProfileVersion(OtherServiceShape):
    """A profile version the worker's profile job recorded: a proposal (with its diff, "section.key":
    [old, new], and the per-symbol figures behind it) or the version it was made from; times in epoch s."""

    profile: str
    version: int
    base_version: int | None
    status: c.ProfileVersionStatus
    created_ts: float
    params: dict
    diff: dict[str, list[float]]
    figures: dict[str, dict[str, float | int | None]]
    lookback_days: int | None
    applied_ts: float | None = None
    decision: str = ""  # the last admin decision on it, by whom and when
    decided_by: str = ""
    decided_ts: float | None = None


class ProfileVersions(BaseModel):
    active: Profile  # what the strategy runs now, as its heartbeat says
    profiles: dict[str, list[ProfileVersion]]  # profile name -> its versions, newest first


# --- alerts ---


class Alerts(BaseModel):
    unacked: int  # WARN and CRIT alerts nobody acknowledged
    alerts: list[AlertRecord]
