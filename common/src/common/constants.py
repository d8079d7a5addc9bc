"""Every stream, consumer group and Redis key name, and the timing numbers they depend on.

Names live here and nowhere else, so a grep for a key finds its one definition.
"""

from enum import StrEnum, unique
from typing import Final

PREFIX: Final = "scalper:"

# --- Streams (DESIGN.md section 3) ---------------------------------------------------------
MARKET_TRADES: Final = "market.trades"
MARKET_BOOK: Final = "market.book"
STRATEGY_SIGNALS: Final = "strategy.signals"
EXEC_INTENTS: Final = "exec.intents"
EXEC_EVENTS: Final = "exec.events"
SYS_HEALTH: Final = "sys.health"
SYS_ALERTS: Final = "sys.alerts"
SYS_CONTROL: Final = "sys.control"
SYS_DLQ: Final = "sys.dlq"

ALL_STREAMS: Final = (
    MARKET_TRADES, MARKET_BOOK, STRATEGY_SIGNALS, EXEC_INTENTS, EXEC_EVENTS,
    SYS_HEALTH, SYS_ALERTS, SYS_CONTROL, SYS_DLQ,
)

# The one field of a stream entry that holds the msgpack payload.
PAYLOAD_FIELD: Final = b"d"

# --- Services ------------------------------------------------------------------------------
MARKET: Final = "market"
STRATEGY: Final = "strategy"
EXECUTION: Final = "execution"
DASHBOARD: Final = "dashboard"
WORKER: Final = "worker"
SERVICES: Final = (MARKET, STRATEGY, EXECUTION, DASHBOARD, WORKER)

# --- Redis keys ----------------------------------------------------------------------------
def heartbeat_key(service: str) -> str:
    """TTL key holding a service's latest heartbeat (msgpack), for the CLI and late readers."""
    return f"{PREFIX}hb:{service}"


HEARTBEAT_KEY_PATTERN: Final = f"{PREFIX}hb:*"
SAFE_MODE_KEY: Final = f"{PREFIX}safe_mode"  # "1" while the operator holds the platform in safe mode
STRATEGY_PROFILE_KEY: Final = f"{PREFIX}strategy:profile"  # the active profile's name, kept across restarts
# The strategy's risk snapshot (JSON): equity, peak, daily loss, kill switch, loss streak, fill ledger,
# and the last exec.events entry they account for; a restart counts only the entries after it.
STRATEGY_RISK_KEY: Final = f"{PREFIX}strategy:risk"


def market_book_key(symbol: str) -> str:
    """The market service's current book of a symbol: msgpack `BookTop` with every level it holds."""
    return f"{PREFIX}market:book:{symbol}"


MARKET_SYMBOLS_KEY: Final = f"{PREFIX}market:symbols"  # the market service's universe, a Redis set
# The market service's per-symbol summary (last price, spread, latency, stale), a hash of JSON values.
MARKET_SUMMARY_KEY: Final = f"{PREFIX}market:summary"

# The execution service's state, read by the CLI and the dashboard (JSON values, Bybit's field names).
EXEC_ORDERS_KEY: Final = f"{PREFIX}exec:orders"  # hash orderLinkId (or orderId) -> open order
EXEC_POSITIONS_KEY: Final = f"{PREFIX}exec:positions"  # hash symbol -> open position with its TP/SL
EXEC_INTENTS_KEY: Final = f"{PREFIX}exec:intents"  # hash intent_id -> what became of it
EXEC_FILLS_KEY: Final = f"{PREFIX}exec:fills"  # sorted set of execIds already published, by time
EXEC_STATE_KEY: Final = f"{PREFIX}exec:state"  # NORMAL | SAFE | RECOVERING, with the reason
EXEC_RECOVERY_KEY: Final = f"{PREFIX}exec:recovery"  # list of recovery plans, newest first

# The dashboard's production-scenario runs (DESIGN.md section 9).
SCENARIO_RUNS_KEY: Final = f"{PREFIX}dashboard:scenario_runs"  # hash run_id -> run (JSON), its steps and errors


def exec_quality_key(symbol: str) -> str:
    """Execution-quality sums of one symbol (a hash of counters), for the dashboard."""
    return f"{PREFIX}exec:quality:{symbol}"


def exec_quality_bucket_key(symbol: str, bucket_start_s: int) -> str:
    """The same sums over one time bucket (EXEC_QUALITY_BUCKET_S from bucket_start_s, epoch seconds), for
    the dashboard's charts over time. Outside `exec_quality_key("")*`: a scan of lifetime hashes skips it."""
    return f"{PREFIX}exec:quality-bucket:{symbol}:{bucket_start_s}"


# --- Intent statuses: what became of an intent (EXEC_INTENTS_KEY's records) ----------------------
@unique
class IntentStatus(StrEnum):
    """An intent's way through the execution service; the last three are final."""

    QUEUED = "queued"  # recorded with the intent, not sent yet
    SENDING = "sending"  # a submit may be in flight: look the order up, never resend blind
    UNKNOWN = "unknown"  # a submit whose reply was lost: the order may exist; settled by proof, never rejected
    ACKED = "acked"  # the exchange has the order
    FILLED = "filled"  # something filled (also an order cancelled after a partial fill)
    REJECTED = "rejected"  # by us (expired, SAFE, filters) or by the exchange
    CANCELLED = "cancelled"


# Intents nothing more happens to; and intents not known to be on the exchange.
FINAL_INTENT_STATUSES: Final = frozenset({IntentStatus.FILLED, IntentStatus.REJECTED, IntentStatus.CANCELLED})
UNSENT_INTENT_STATUSES: Final = frozenset({IntentStatus.QUEUED, IntentStatus.SENDING, IntentStatus.UNKNOWN})
# Intents whose order may be on the exchange although we were not told: looked up, never resent blind.
MAYBE_SENT_INTENT_STATUSES: Final = frozenset({IntentStatus.SENDING, IntentStatus.UNKNOWN})


# --- Alert keys: alerts with one key are one incident to the dashboard (deduplicated, acked) ----
def dlq_alert_key(stream: str) -> str:
    """Entries of `stream` went to sys.dlq."""
    return f"dlq:{stream}"


def config_alert_key(service: str) -> str:
    """A config reload of `service` was rejected."""
    return f"config:{service}"


MARKET_WS_ALERT: Final = "market:ws"  # the public WS disconnected
MARKET_RESYNC_STORM_ALERT: Final = "market:resync_storm"  # too many book resyncs in a minute


def market_resync_alert_key(symbol: str, kind: str) -> str:
    """A book of `symbol` resynced; `kind` is why (gap, crossed, unanswered: a silent feed, ...)."""
    return f"market:resync:{symbol}:{kind}"


STRATEGY_PROFILE_ALERT: Final = "strategy:profile"  # a profile was rejected
STRATEGY_KILL_SWITCH_ALERT: Final = "strategy:kill_switch"  # the kill switch tripped
STRATEGY_RISK_SNAPSHOT_ALERT: Final = "strategy:risk_snapshot"  # STRATEGY_RISK_KEY unreadable

# The execution service's alerts: one per cause of SAFE, and per outcome of a recovery.
EXEC_WS_ALERT: Final = "execution:ws"  # the private WS lost or silent
EXEC_REDIS_ALERT: Final = "execution:redis"  # Redis back after an outage
EXEC_MARKET_DATA_ALERT: Final = "execution:market-data"  # the market service's books stale
EXEC_RECOVERY_ALERT: Final = "execution:recovery"  # a recovery plan failed, or succeeded
EXEC_FOREIGN_ALERT: Final = "execution:foreign"  # orders not ours, left alone
EXEC_ZOMBIE_ALERT: Final = "execution:zombie"  # positions none of our intents opened


def exec_module_alert_key(module: str) -> str:
    """A required module's heartbeat stopped (MODULE_CRASH), or came back."""
    return f"execution:module:{module}"


# Hard limits and ownership (DESIGN.md section 5): execution's daily-loss state, which orders built
# each position, and the alerts of a refused intent and of the kill switch.
EXEC_DAILY_LOSS_KEY: Final = f"{PREFIX}exec:daily-loss"  # JSON: UTC day, its start equity, kill reason
EXEC_OWNERSHIP_KEY: Final = f"{PREFIX}exec:ownership"  # hash symbol -> JSON {orderLinkId: last fill ms}
EXEC_KILL_SWITCH_ALERT: Final = "execution:kill_switch"  # the daily loss on the wallet's equity tripped
# Protection in every state, the per-item resync, and fills (issue 19).
EXEC_RESYNC_ALERT: Final = "execution:resync"  # one item of the periodic resync failed (retried)
EXEC_SUBMIT_UNKNOWN_ALERT: Final = "execution:submit-unknown"  # a submit's outcome unknown until proven
EXEC_FILLS_WATERMARK_KEY: Final = f"{PREFIX}exec:fills-watermark"  # ms: every execution before it was read by REST
EXEC_FUNDING_KEY: Final = f"{PREFIX}exec:funding"  # list of funding executions (JSON), newest first
STRATEGY_EXIT_REFUSED_ALERT: Final = "strategy:exit_refused"  # an exit refused too often: given up


def exec_equity_curve_key(resolution: str) -> str:
    """The wallet's equity sampled per `resolution` ("5m", "1h", "1d"): a sorted set, bounded on every write
    (common.equity_curve)."""
    return f"{PREFIX}exec:equity:{resolution}"


def exec_unprotected_alert_key(symbol: str) -> str:
    """A position on `symbol` without TP or SL that a TP/SL call failed on, or that stayed bare too long."""
    return f"execution:unprotected:{symbol}"


def exec_limit_alert_key(limit: str) -> str:
    """An intent refused by execution's hard limit `limit` (an EXEC_* config key, lower case)."""
    return f"execution:limit:{limit}"


# --- Timing (seconds unless the name says otherwise) ---------------------------------------
HEARTBEAT_INTERVAL_S: Final = 1.0
# Execution-quality buckets: five minutes each, kept two days (the dashboard charts the last 24 h).
EXEC_QUALITY_BUCKET_S: Final = 300
EXEC_QUALITY_BUCKET_TTL_S: Final = 2 * 86_400
# A heartbeat key outlives three missed beats, so one slow beat never looks like a dead service.
HEARTBEAT_TTL_MS: Final = 3_500
# The dashboard calls a service RED after this long without a heartbeat (kill -9 -> RED within 5 s).
SERVICE_DOWN_AFTER_S: Final = 3.0
# XREADGROUP blocks at most this long, so an idle consumer still proves it is alive to the watchdog.
CONSUMER_BLOCK_MS: Final = 500
CONSUMER_BATCH: Final = 500
# Pending entries idle this long belong to a consumer that died: XAUTOCLAIM takes them over.
CLAIM_MIN_IDLE_MS: Final = 15_000
# How long SIGTERM may take before the runner gives up on in-flight work.
SHUTDOWN_GRACE_S: Final = 10.0


# worker ------------------------------------------------------------------------------------
# The four housekeeping jobs, by the names the CLI, the dashboard and the run records use.
JOB_RETENTION: Final = "retention"
JOB_PROFILE: Final = "profile"
JOB_BACKUP: Final = "backup"
JOB_CLEANUP: Final = "cleanup"
JOBS: Final = (JOB_RETENTION, JOB_PROFILE, JOB_BACKUP, JOB_CLEANUP)
# hash job name -> JSON summary {name, schedule, next_run_ts, last_run, failures, runs}: what a jobs page lists.
WORKER_JOBS_KEY: Final = f"{PREFIX}worker:jobs"
# APScheduler's RedisJobStore: a hash of pickled jobs and a sorted set of their next run times.
WORKER_SCHEDULER_JOBS_KEY: Final = f"{PREFIX}worker:scheduler:jobs"
WORKER_SCHEDULER_TIMES_KEY: Final = f"{PREFIX}worker:scheduler:run_times"


def job_runs_key(job: str) -> str:
    """A job's last runs, newest first: a list of JSON records (start, end, outcome, counts, bytes, error)."""
    return f"{PREFIX}worker:runs:{job}"


def job_lock_key(job: str) -> str:
    """The run lock of a job (SET NX PX): held by one run at a time, across processes and restarts."""
    return f"{PREFIX}worker:lock:{job}"


# Proposed and applied strategy profile versions, written by the worker's profile job.
def profile_versions_key(profile: str) -> str:
    """A profile's versions: a hash version number -> JSON {version, status, params, diff, figures, ...}."""
    return f"{PREFIX}strategy:profile-versions:{profile}"


JOB_HISTORY: Final = 50  # run records kept per job
# JSON list of every retention policy {key, value, unit, applies_to, meaning}, set by the worker at start
# and on reload (the dashboard's jobs page lists them without importing the worker).
WORKER_POLICIES_KEY: Final = f"{PREFIX}worker:policies"
# JSON list of the finished backups on the worker's host {id, path, created_ts, size, verified_ts}, newest
# first, set by the worker at start and after each backup run.
WORKER_BACKUPS_KEY: Final = f"{PREFIX}worker:backups"


@unique
class ProfileVersionStatus(StrEnum):
    """Where a proposed profile version stands (profile_versions_key's records)."""

    PENDING = "pending"  # proposed, waiting for an admin
    APPLIED = "applied"  # written to DATA_DIR/profiles and switched to (it may since have been replaced)
    REJECTED = "rejected"


@unique
class ProfileDecision(StrEnum):
    """An admin's decision on a profile version, carried out by the worker (Command.PROFILE_DECISION)."""

    APPROVE = "approve"
    REJECT = "reject"
    ROLLBACK = "rollback"  # apply an earlier version again


PROFILE_DECISION_ALERT: Final = "worker:profile-decision"  # a decision the worker could not carry out

# The status a version must have for each decision.
DECISION_NEEDS: Final = {ProfileDecision.APPROVE: ProfileVersionStatus.PENDING,
                         ProfileDecision.REJECT: ProfileVersionStatus.PENDING,
                         ProfileDecision.ROLLBACK: ProfileVersionStatus.APPLIED}


# dashboard
# The health monitor's restart counts, kept across dashboard restarts: a hash service -> restarts seen.
HEALTH_RESTARTS_KEY: Final = f"{PREFIX}health:restarts"
# Each service's newest instance the health monitor has seen (hash service -> JSON: instance, its first
# heartbeat's ts, pid): a restart while the dashboard was down, or of the dashboard itself, is still seen.
HEALTH_INSTANCES_KEY: Final = f"{PREFIX}health:instances"

# The Telegram bot's next getUpdates offset (the last handled update_id + 1), kept across restarts.
TELEGRAM_OFFSET_KEY: Final = f"{PREFIX}dashboard:telegram:offset"


def login_throttle_key(who: str) -> str:
    """The login throttle's record of `who` ("addr:<ip>", "ua:<hex name>:<ip>" or "user:<hex name>"): a
    hash count, lockouts, until_ms (next_ms for a user name)."""
    return f"{PREFIX}dashboard:login:{who}"


# Login lockouts since the last lockout alert (a counter), and the marker that one was sent in this window.
LOGIN_LOCKOUTS_KEY: Final = f"{PREFIX}dashboard:login-lockouts"
LOGIN_LOCKOUT_ALERTED_KEY: Final = f"{PREFIX}dashboard:login-lockout-alerted"
LOCKOUT_ALERT_KEY: Final = "login-lockout"  # the one alert key of every login lockout (no typed text in it)


def session_key(handle: str) -> str:
    """A dashboard session by its handle (the SHA-256 of the cookie's id): a hash user, csrf, client,
    started_ms, seen_ms, expiring with the session."""
    return f"{PREFIX}dashboard:session:{handle}"


def user_sessions_key(hex_name: str) -> str:
    """The handles of one user's sessions (a set; the name hex-encoded), to end them all at once."""
    return f"{PREFIX}dashboard:user-sessions:{hex_name}"


def restart_alert_key(service: str) -> str:
    """The alert key of a service seen restarted (a new pid or start time)."""
    return f"restart:{service}"


def down_alert_key(service: str) -> str:
    """The alert key of a service gone RED."""
    return f"down:{service}"


def degraded_alert_key(service: str) -> str:
    """The alert key of a service YELLOW too long (dashboard.health_monitor.DEGRADED_ALERT_AFTER_S)."""
    return f"degraded:{service}"


def execution_alert_key(hold: str) -> str:
    """The alert key execution raises for what holds it SAFE ("ws", "module:market", ...)."""
    return f"execution:{hold}"


