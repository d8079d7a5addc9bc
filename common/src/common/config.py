"""Typed settings from the environment and an env file; a bad value stops the service with exit 78.

The env file is `.env` in the working directory unless `SCALPER_ENV_FILE` names another (systemd
loads `/etc/scalper/scalper.env` itself through `EnvironmentFile=`). Real environment variables win
over the file. Secrets are `SecretStr`, so they never show in `repr`, logs or pages.
"""

from __future__ import annotations

import json
import os
import re
import sys
import urllib.request
from enum import StrEnum
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotenv import dotenv_values
from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from common import deploy_history
from common.cron import cron_trigger
from common.bybit.enums import TriggerBy

EX_CONFIG = 78  # sysexits.h EX_CONFIG; systemd units carry RestartPreventExitStatus=78
ENV_FILE_VAR = "SCALPER_ENV_FILE"

Port = Annotated[int, Field(ge=1, le=65535)]
# 0 asks the OS for a free port (tests); metrics can also be switched off with -1.
MetricsPort = Annotated[int, Field(ge=-1, le=65535)]
_BCRYPT = re.compile(r"^\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53}$")
_HH_MM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class ExecutionMode(StrEnum):
    SIM = "SIM"
    DRY = "DRY"
    LIVE = "LIVE"


class BybitNetwork(StrEnum):
    MAINNET = "mainnet"
    TESTNET = "testnet"


class ZombiePolicy(StrEnum):
    ADOPT = "adopt"  # keep it, protect it with TP/SL, alert
    FLATTEN = "flatten"  # close it with a reduce-only market order, alert


class UnprotectedPolicy(StrEnum):
    """What execution does with a position it could not put TP and SL on after EXEC_PROTECT_MAX_TRIES."""

    ALERT = "alert"  # keep trying with backoff, CRIT alert
    CLOSE = "close"  # close it with reduce-only market orders, CRIT alert


class LogLevel(StrEnum):
    DEBUG = "DEBUG"
    INFO = "INFO"
    WARNING = "WARNING"
    ERROR = "ERROR"


class ConfigError(Exception):
    """A setting that cannot be used; `key` names it the way the operator writes it."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"{key}: {problem}")
        self.key = key
        self.problem = problem


class Settings(BaseSettings):
    """Every key of the env file. `.env.example` documents each one."""

    model_config = SettingsConfigDict(case_sensitive=False, extra="forbid", env_file_encoding="utf-8")

    execution_mode: ExecutionMode = ExecutionMode.SIM
    bybit_api_key: SecretStr = SecretStr("")
    bybit_api_secret: SecretStr = SecretStr("")
    bybit_network: BybitNetwork = BybitNetwork.MAINNET
    bybit_rest_url: str = ""
    bybit_ws_public_url: str = ""
    bybit_ws_private_url: str = ""

    # Market universe: SYMBOLS wins; empty means the top MARKET_TOP_N by 24h turnover, re-ranked every
    # MARKET_UNIVERSE_REFRESH_S; either way at most MARKET_MAX_SYMBOLS.
    symbols: str = ""
    market_top_n: Annotated[int, Field(ge=1)] = 10
    market_max_symbols: Annotated[int, Field(ge=1, le=500)] = 50
    market_universe_refresh_s: Annotated[float, Field(gt=0)] = 3600.0
    market_book_depth: int = 50  # the orderbook.{depth} topic: 50, 200 or 500
    market_publish_levels: Annotated[int, Field(ge=1, le=50)] = 10  # levels per side in market.book
    market_imbalance_levels: Annotated[int, Field(ge=1, le=50)] = 5
    market_flow_window_s: Annotated[float, Field(gt=0)] = 60.0  # trade flow, CVD and VWAP
    market_vol_window_s: Annotated[float, Field(gt=0)] = 60.0  # realised volatility
    market_stale_after_s: Annotated[float, Field(gt=0)] = 10.0  # a book without updates this long resyncs
    market_latency_warn_ms: Annotated[float, Field(gt=0)] = 1000.0  # feed latency that turns health YELLOW

    # Execution: orderLinkId prefixes that mark our orders (strategy, manual); what to do with a
    # position nobody here opened; the TP/SL put on a position that has none (% from entry).
    exec_link_prefixes: str = "s-,m-"
    exec_zombie_policy: ZombiePolicy = ZombiePolicy.ADOPT
    exec_default_tp_pct: Annotated[float, Field(gt=0)] = 2.0
    exec_default_sl_pct: Annotated[float, Field(gt=0)] = 1.0
    # The price our TP and SL trigger on (Bybit's tpTriggerBy/slTriggerBy): MarkPrice, LastPrice, IndexPrice.
    exec_tp_trigger_by: TriggerBy = TriggerBy.MARK_PRICE
    exec_sl_trigger_by: TriggerBy = TriggerBy.MARK_PRICE
    exec_required_modules: str = "market,strategy"  # a heartbeat of these that stops means SAFE
    exec_ws_silent_s: Annotated[float, Field(gt=0)] = 15.0  # private stream silent this long: SAFE
    exec_rest_timeout_s: Annotated[float, Field(gt=0)] = 5.0
    exec_safe_wait_s: Annotated[float, Field(ge=0)] = 30.0  # an entry waits this long for NORMAL
    exec_intent_ttl_s: Annotated[float, Field(gt=0)] = 120.0  # an older unsent intent is rejected
    exec_reconcile_interval_s: Annotated[float, Field(gt=0)] = 15.0  # REST resync in NORMAL and SAFE

    redis_url: SecretStr = SecretStr("redis://127.0.0.1:6391/0")
    stream_maxlen: Annotated[int, Field(ge=1000)] = 100_000

    web_host: str = "127.0.0.1"
    web_port: Port = 8080
    metrics_host: str = "127.0.0.1"
    market_metrics_port: MetricsPort = 9101
    strategy_metrics_port: MetricsPort = 9102
    execution_metrics_port: MetricsPort = 9103
    dashboard_metrics_port: MetricsPort = 9104
    worker_metrics_port: MetricsPort = 9105

    data_dir: Path = Path("var")
    sqlite_path: Path | None = None

    telegram_bot_token: SecretStr = SecretStr("")
    telegram_chat_id: str = ""
    admin_username: str = "admin"
    admin_password_hash: SecretStr = SecretStr("")  # empty: the dashboard runs in open local mode

    # Dashboard security and alerting.
    session_secret: SecretStr = SecretStr("")  # empty: one is generated and kept in DATA_DIR
    session_ttl_s: Annotated[float, Field(gt=0)] = 12 * 3600.0  # a login lasts this long
    # attempts in a row that lock an address (and a user name from that address) out
    login_max_failures: Annotated[int, Field(ge=1)] = 20
    login_lockout_s: Annotated[float, Field(gt=0)] = 900.0  # first lockout; doubles on each repeat
    web_allow_networks: str = ""  # comma-separated CIDRs the dashboard accepts clients from; empty: all
    metrics_token: SecretStr = SecretStr("")  # bearer token for /metrics from a non-loopback scraper
    telegram_api_url: str = "https://api.telegram.org"
    telegram_send_warn: bool = False  # WARN alerts go to Telegram too (CRIT always do)
    alert_dedup_s: Annotated[float, Field(gt=0)] = 300.0  # the same alert key within this window is one
    alert_rate_per_min: Annotated[int, Field(ge=1)] = 20  # Telegram messages per minute at most

    # Telegram bot (README "Telegram bot"): commands answered in TELEGRAM_CHAT_ID only, the admin chat.
    telegram_poll_timeout_s: Annotated[int, Field(ge=1, le=50)] = 30  # getUpdates long-poll wait
    telegram_summary_time: str = ""  # HH:MM of the daily summary in TELEGRAM_TIMEZONE; empty: none
    telegram_timezone: str = "UTC"  # the operator's IANA time zone (summary time, times in answers)

    service_cluster_id: Annotated[str, Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")] = "scalper"
    log_level: LogLevel = LogLevel.INFO

    # worker: schedules (cron, UTC), backups, retention policies, cleanup (.env.example documents each).
    worker_retention_cron: str = "7 * * * *"  # hourly
    worker_cleanup_cron: str = "37 * * * *"  # hourly, half an hour after retention
    worker_backup_cron: str = "15 3 * * *"  # daily at 03:15 UTC
    worker_profile_cron: str = "45 0 * * *"  # daily, after the UTC day's fills are in
    backup_dir: str = ""  # empty: DATA_DIR/backups
    backup_copy_dir: str = ""  # optional second location, rotated like the first
    backup_keep_daily: Annotated[int, Field(ge=1)] = 7
    backup_keep_weekly: Annotated[int, Field(ge=0)] = 4
    backup_keep_monthly: Annotated[int, Field(ge=0)] = 6
    backup_max_age_h: Annotated[float, Field(gt=0)] = 26.0  # a newest backup older than this is a CRIT alert
    # Stream retention by age in hours (0: length only, by STREAM_MAXLEN); never past an unacked entry.
    retention_market_h: Annotated[float, Field(ge=0)] = 6.0  # market.trades, market.book
    retention_signals_h: Annotated[float, Field(ge=0)] = 72.0  # strategy.signals
    retention_exec_h: Annotated[float, Field(ge=0)] = 30 * 24.0  # exec.intents, exec.events
    retention_health_h: Annotated[float, Field(ge=0)] = 1.0  # sys.health
    retention_sys_h: Annotated[float, Field(ge=0)] = 30 * 24.0  # sys.alerts, sys.control, sys.dlq
    retention_log_days: Annotated[float, Field(gt=0)] = 90.0  # compressed alert/audit log archives
    retention_recovery_plans: Annotated[int, Field(ge=1)] = 200  # recovery plans kept
    retention_scenario_runs: Annotated[int, Field(ge=1)] = 200  # scenario runs kept
    retention_quality_h: Annotated[float, Field(gt=0)] = 48.0  # execution-quality buckets
    # profile versions kept per profile (newest), beside every pending one and the newest applied one
    retention_profile_versions: Annotated[int, Field(ge=1)] = 100
    cleanup_consumer_idle_s: Annotated[float, Field(gt=0)] = 3600.0  # a dead consumer idle this long goes
    cleanup_tmp_age_s: Annotated[float, Field(gt=0)] = 3600.0  # temporary files older than this go
    releases_dir: str = ""  # release directories (deploy); empty: cleanup skips them
    releases_keep: Annotated[int, Field(ge=1)] = 5
    profile_lookback_days: Annotated[int, Field(ge=1, le=90)] = 7
    profile_auto_apply: bool = False  # a proposed profile version waits for approval unless this is set
    # A job's run lock lives this long unless renewed (every third of it, by the live run): a run killed
    # with -9 frees its job after at most this long.
    worker_lock_ttl_s: Annotated[float, Field(ge=1)] = 60.0

    # Execution's hard limits on every entry (strategy and manual alike; reduce-only orders always pass),
    # checked against the exchange's positions and wallet: see the README's failover section.
    exec_max_open_positions: Annotated[int, Field(ge=1)] = 10  # symbols held or being entered
    exec_max_exposure_usdt: Annotated[float, Field(gt=0)] = 100_000.0  # notional of all positions and entries
    exec_max_symbol_exposure_usdt: Annotated[float, Field(gt=0)] = 50_000.0  # the same on one symbol
    exec_max_order_notional_usdt: Annotated[float, Field(gt=0)] = 25_000.0  # one order's qty x price
    exec_daily_loss_limit_pct: Annotated[float, Field(gt=0, le=100)] = 5.0  # of the wallet's equity at 00:00 UTC
    exec_entry_deadline_s: Annotated[float, Field(gt=0)] = 15.0  # an entry older than this is not sent
    exec_max_drift_bps: Annotated[float, Field(gt=0)] = 50.0  # price moved this far from the reference: refused
    # protection in every state (NORMAL, SAFE, RECOVERING): see the README's failover section
    exec_protect_poll_s: Annotated[float, Field(gt=0)] = 1.0  # REST poll of positions for a missing TP/SL
    exec_protect_bound_s: Annotated[float, Field(gt=0)] = 5.0  # bare this long after being seen: CRIT alert
    exec_protect_max_tries: Annotated[int, Field(ge=1)] = 5  # failed TP/SL calls before the policy applies
    exec_unprotected_policy: UnprotectedPolicy = UnprotectedPolicy.ALERT  # alert | close

    # Dashboard exposure (README "Security"): the login throttle's per-user pace, the reverse proxies whose
    # X-Forwarded-For/-Proto are believed, the Host names served, the largest request body.
    login_user_interval_s: Annotated[float, Field(gt=0)] = 1.0  # a user name past the limit: one check per
    web_trusted_proxies: str = ""  # comma-separated proxy addresses or CIDRs; empty: no proxy is believed
    web_allowed_hosts: str = ""  # comma-separated Host names (host or host:port); empty: any
    web_max_body_kib: Annotated[int, Field(ge=1, le=10_240)] = 256  # larger request bodies get 413

    # The auto-update's record, which the dashboard's deploys page reads (deploy/autoupdate/scalper-update).
    deploy_state_dir: Path = deploy_history.STATE_DIR  # history.jsonl and bad-commits
    deploy_opt_dir: Path = deploy_history.OPT_DIR  # the `current` and `previous` release symlinks

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, v: SecretStr) -> SecretStr:
        if urlsplit(v.get_secret_value()).scheme not in ("redis", "rediss", "unix"):
            raise ValueError("must be a redis://, rediss:// or unix:// URL")
        return v

    @field_validator("sqlite_path", mode="before")
    @classmethod
    def _empty_is_unset(cls, v: object) -> object:
        return None if v == "" else v  # `SQLITE_PATH=` means the default, not the current directory

    @field_validator("worker_retention_cron", "worker_cleanup_cron", "worker_backup_cron", "worker_profile_cron")
    @classmethod
    def _crontab(cls, v: str) -> str:
        try:
            cron_trigger(v)
        except ValueError as e:
            raise ValueError(f"is not a crontab line (minute hour day month weekday, UTC): {e}") from None
        return v

    @field_validator("market_book_depth")
    @classmethod
    def _book_depth(cls, v: int) -> int:
        if v not in (50, 200, 500):
            raise ValueError("must be 50, 200 or 500 (the linear orderbook depths Bybit streams)")
        return v

    @field_validator("deploy_state_dir", "deploy_opt_dir")
    @classmethod
    def _absolute(cls, v: Path) -> Path:
        if not v.is_absolute():
            raise ValueError("must be an absolute path (the auto-update's directories are system-wide)")
        return v

    @field_validator("telegram_summary_time")
    @classmethod
    def _summary_time(cls, v: str) -> str:
        if v and not _HH_MM.match(v):
            raise ValueError("must be HH:MM, 00:00 to 23:59 (empty: no daily summary)")
        return v

    @field_validator("telegram_timezone")
    @classmethod
    def _timezone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("is not a known time zone (an IANA name: Europe/Berlin, UTC, ...)") from None
        return v

    @field_validator("session_secret")
    @classmethod
    def _session_secret_length(cls, v: SecretStr) -> SecretStr:
        if v.get_secret_value() and len(v.get_secret_value().encode()) < 32:
            raise ValueError("is shorter than 32 bytes (make one with `openssl rand -base64 48`)")
        return v

    @field_validator("admin_password_hash")
    @classmethod
    def _bcrypt_hash(cls, v: SecretStr) -> SecretStr:
        if v.get_secret_value() and not _BCRYPT.match(v.get_secret_value()):
            raise ValueError("is not a bcrypt hash (make one with `scalperctl hash-password`)")
        return v

    def check(self, service: str | None = None) -> Settings:
        """Rules that span keys; raises ConfigError naming the key to fix. For a `service`, a secret it
        never receives (SERVICE_SECRETS) is not required of it."""
        needed = SERVICE_SECRETS[service] if service in SERVICE_SECRETS else SECRET_KEYS
        if self.execution_mode is ExecutionMode.LIVE:
            for key in ("BYBIT_API_KEY", "BYBIT_API_SECRET"):
                if key in needed and not getattr(self, key.lower()).get_secret_value():
                    raise ConfigError(key, "required when EXECUTION_MODE=LIVE")
            if "ADMIN_PASSWORD_HASH" in needed and not self.admin_password_hash.get_secret_value():
                raise ConfigError("ADMIN_PASSWORD_HASH", "required when EXECUTION_MODE=LIVE (no open dashboard)")
        for scheme in ("http", "https"):  # the proxies Bybit's REST client takes (common.bybit.http.env_proxy)
            proxy = urllib.request.getproxies().get(scheme, "")
            if proxy and urlsplit(proxy).scheme not in ("http", "https"):
                raise ConfigError(f"{scheme.upper()}_PROXY", f"{proxy}: Bybit's REST API is reached through an "
                                  "http:// or https:// proxy only")
        return self

    @property
    def symbol_list(self) -> list[str]:
        """SYMBOLS as a list (empty: the universe comes from turnover ranking)."""
        return [s.strip().upper() for s in self.symbols.split(",") if s.strip()]

    @property
    def users_db(self) -> Path:
        return self.sqlite_path or self.data_dir / "users.db"

    def metrics_port(self, service: str) -> int:
        return getattr(self, f"{service}_metrics_port")

    def public_view(self) -> dict[str, str]:
        """Every setting as the operator may see it: secrets masked, URL passwords hidden."""
        view = {}
        for name, value in self:
            if isinstance(value, SecretStr):
                shown = mask_url(value.get_secret_value()) if name == "redis_url" else mask(value)
            else:
                shown = str(value)
            view[name.upper()] = shown
        return view


def mask(secret: SecretStr) -> str:
    return "********" if secret.get_secret_value() else ""


def mask_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username or ''}:********@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def env_file_path() -> Path:
    return Path(os.environ.get(ENV_FILE_VAR, ".env"))


def _env_file_exists(path: Path) -> None:
    """An env file named on purpose must be there."""
    if not path.is_file():
        raise ConfigError(ENV_FILE_VAR, f"env file {path} does not exist")


def env_file_values(path: Path) -> dict[str, str]:
    """An env file's KEY=value lines as the environment systemd's `EnvironmentFile=` would make of them;
    an unknown key is an error here (in the environment it would be silently ignored)."""
    _env_file_exists(path)
    values = {k: v for k, v in dotenv_values(path).items() if v is not None}
    for key in values:
        if key.lower() not in Settings.model_fields:
            raise ConfigError(key.upper(), f"unknown key (typo?) in {path}")
    return values


def load(env_file: Path | None = None, *, file_wins: bool = False, service: str | None = None) -> Settings:
    """Read and check settings; raises ConfigError for the first bad key.

    `file_wins` is for a hot reload: under systemd `EnvironmentFile=` put the file's values of
    process start into the environment, so on a reload the file must override the environment.
    """
    path = env_file if env_file is not None else env_file_path()
    if env_file is not None:
        _env_file_exists(path)
    overrides = {}
    if file_wins and path.is_file():
        overrides = {k.lower(): v for k, v in dotenv_values(path).items() if v is not None}
    try:
        settings = Settings(_env_file=path if path.is_file() else None, **overrides)
    except ValidationError as e:
        err = e.errors()[0]
        key = str(err["loc"][0]).upper() if err["loc"] else "CONFIG"
        got = err.get("input")
        # A value is echoed only for a known key that is no secret: a mistyped key (BYBIT_API_SECRETT=...)
        # may well hold a secret, and this message reaches pages, logs and alerts.
        shown = f" (got {got!r})" if key in _SHOWABLE_KEYS and not isinstance(got, dict) else ""
        problem = "unknown key (typo?)" if err["type"] == "extra_forbidden" else err["msg"]
        raise ConfigError(key, problem + shown) from None
    return settings.check(service)


SECRET_KEYS = {n.upper() for n, f in Settings.model_fields.items() if f.annotation is SecretStr}
_SHOWABLE_KEYS = {n.upper() for n in Settings.model_fields} - SECRET_KEYS
# The secrets each program uses, so each is given only those (make run's supervisord environment, the
# per-service env files of a systemd deployment). Every other key is no secret and goes to all. A data
# file, because the Ansible role that writes the deployment's env files reads the same split.
SERVICE_SECRETS: dict[str, frozenset[str]] = {
    program: frozenset(keys)
    for program, keys in json.loads(Path(__file__).with_name("service_secrets.json").read_text()).items()
}


def load_or_exit(env_file: Path | None = None, *, service: str | None = None) -> Settings:
    """What a service calls at start: one line naming the key and exit 78 on a bad config."""
    try:
        return load(env_file, service=service)
    except ConfigError as e:
        print(f"config error: {e}", file=sys.stderr, flush=True)
        raise SystemExit(EX_CONFIG) from None
