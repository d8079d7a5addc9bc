"""What each JSON API route answers, as pydantic models: the OpenAPI schema documents it and FastAPI checks
every read against it (an action's JSON is documented here and checked by schemathesis).

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

from dashboard.records import AlertRecord, RunRecord
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
    """The service's process on the dashboard's host."""

    model_config = ConfigDict(extra="forbid")
    rss_mb: float
    cpu_s: float
    threads: int


class NoProcessFacts(BaseModel):
    """The service runs on another host, or its process is gone: nothing to measure."""

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


# --- the worker's jobs ---


class JobRun(OtherServiceShape):
    """One run of a job as the worker records it; times in epoch seconds, end null while it runs."""

    run_id: str
    job: str
    trigger: str  # "schedule", or the command_id of the run_job command that asked for it
    start_ts: float
    end_ts: float | None
    outcome: str  # running, ok, failed, skipped (another run held the lock), missed (not started in time)
    counts: dict[str, int]
    bytes: int
    error: str


class Job(BaseModel):
    """A job with its schedule (crontab, UTC), next run, failures in a row and in all, and last runs."""

    name: str
    registered: bool  # false until a worker has started with it
    schedule: str | None
    next_run_ts: float | None
    last_success_ts: float | None
    failures: int
    failed_total: int
    runs: int
    history: list[JobRun]  # newest first


class RetentionPolicy(OtherServiceShape):
    key: str  # the config key
    value: int | float | str
    unit: str
    applies_to: list[str]  # streams, when it is a stream's policy
    meaning: str


class Backup(OtherServiceShape):
    """A finished backup on the worker's host; verified_ts: when a restore of it last proved good."""

    id: str
    path: str
    created_ts: float
    size: int  # bytes
    verified_ts: float | None


class Jobs(BaseModel):
    worker_refusal: str  # why a run now would not be carried out ("" while the worker runs)
    jobs: list[Job]
    policies: list[RetentionPolicy]
    backups: list[Backup]  # newest first


# --- deploys ---


class DeployEntry(BaseModel):
    """One line of the auto-update's history: a deploy, a refusal or a rollback (ts in epoch s; `kind`:
    ok, warn or failed)."""

    ts: float
    commit: str
    from_: str = Field(alias="from")  # the release it replaced ("" for the first)
    outcome: str  # deployed, rolled-back, rollback, unsigned, build-failed, config-refused, failed
    seconds: float | None
    detail: str
    kind: Literal["ok", "warn", "failed"]
    display: dict[str, str]


class Deploys(BaseModel):
    """The running and previous release, the history newest first, the commits never retried; `no_data`
    says why there is no history on this host (not deployed by the auto-update)."""

    no_data: str | None
    state_dir: str
    current: str | None
    previous: str | None
    not_retried: list[str]
    history: list[DeployEntry]
    running: dict[str, dict[str, str]]  # service -> version, release, label (from its heartbeats)


class LastDeploy(BaseModel):
    """The newest deploy for the overview, or `no_data` saying why there is none."""

    no_data: str | None = None
    ts: float | None = None
    commit: str | None = None
    from_: str | None = Field(None, alias="from")
    outcome: str | None = None
    seconds: float | None = None
    detail: str | None = None
    kind: str | None = None
    display: dict[str, str] = {}


# --- alerts ---


class Alerts(BaseModel):
    unacked: int  # WARN and CRIT alerts nobody acknowledged
    alerts: list[AlertRecord]


# --- configuration ---


class ConfigCheck(BaseModel):
    """The env file as the services would read it now: valid, or the key that is wrong and why."""

    valid: bool
    key: str
    problem: str


class ConfigView(BaseModel):
    settings: dict[str, str]  # SETTING -> value, secrets masked
    check: ConfigCheck


class ConfigVersion(BaseModel):
    """A distinct configuration seen at start or reload; changes: [key, old, new] against the one before."""

    version: int
    ts_ns: int
    by: str
    changes: list[tuple[str, str, str]]


class ConfigVersions(BaseModel):
    versions: list[ConfigVersion]


# --- integration test scenarios ---


class ScenarioEntry(BaseModel):
    key: str
    title: str
    sim_only: bool
    steps: list[str]
    refusal: str  # why it may not run now, "" when it may
    params: dict[str, str]  # the parameters it takes, with their defaults (a run's form fields)
    choices: dict[str, list[str]]  # a parameter's allowed values, where they are a list (recordings)


ScenarioRun = mirror(RunRecord, "ScenarioRun")


class Scenarios(BaseModel):
    scenarios: list[ScenarioEntry]
    runs: list[ScenarioRun]  # newest first


# --- actions (answered as JSON to API calls; a browser's form post is redirected back to its page) ---


class CommandSent(BaseModel):
    """A control command published on sys.control; `note` says what it waits for, when it waits."""

    command: str
    target: str
    entry_id: str
    note: str = ""  # absent when nothing holds it back


class RestartSent(BaseModel):
    command: Literal["restart"]
    target: str
    pid: int
    supervisor: str
    entry_id: str


class ProfileSwitchSent(BaseModel):
    command: Literal["set_profile"]
    args: dict[str, str]
    entry_id: str


class JobRunSent(BaseModel):
    """run_job sent to the worker; the run's record carries `command_id` as its trigger."""

    command: Literal["run_job"]
    job: str
    command_id: str
    entry_id: str


class ProfileDecisionSent(BaseModel):
    command: Literal["profile_decision"]
    args: dict[str, str]  # profile, version, decision
    entry_id: str


class ConfigReload(ConfigCheck):
    """The env file's validation; when valid, the reload command's entry id."""

    entry_id: str = ""  # absent when the file is invalid: nothing was sent


class AlertAcked(BaseModel):
    id: int
    acked_by: str


class ScenarioStarted(BaseModel):
    run_id: str
    scenario: str


class OrderSent(BaseModel):
    """The manual order's intent on exec.intents; its orderLinkId finds it in the open orders."""

    intent_id: str
    orderLinkId: str
    entry_id: str


# --- sessions and login lockouts ---


class SessionRow(BaseModel):
    """One live session: its handle (not the cookie), who, from where, since and last seen (ms, epoch)."""

    handle: str
    user: str
    client: str
    started_ms: int
    seen_ms: int
    current: bool  # the session of the request


class Sessions(BaseModel):
    sessions: list[SessionRow]


class SessionRevoked(BaseModel):
    handle: str


class UserUnlocked(BaseModel):
    user: str
    records: int  # lockout records cleared
