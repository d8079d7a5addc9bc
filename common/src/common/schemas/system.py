"""sys.health, sys.alerts, sys.control and sys.dlq.

SCHEMA_VERSION changelog:
  1: first version; since then, added with defaults (older readers ignore them): Heartbeat.supervisor,
     Command.RESTART (a reader without it dead-letters the command: deploy all services together),
     Command.RUN_JOB, Command.PROFILE_DECISION, Command.PAUSE_ENTRIES.
  2: Heartbeat.boot_id, a random id drawn at each process start, and Heartbeat.instance(): a restart
     is seen however quick it is, even where pid and start time repeat (pid 1 in a container, a
     coarse clock); a v1 heartbeat has no boot_id and is told apart by pid and start time.
     Since then, added with a default: Heartbeat.release, the release commit the process runs ("" when
     unknown; `version` stays the package version). Heartbeat.process, the process's memory, CPU
     and threads (None from an older process).
"""

from __future__ import annotations

from enum import StrEnum

import msgspec

from common.schemas.base import Message

SCHEMA_VERSION = 2


class Status(StrEnum):
    GREEN = "GREEN"
    YELLOW = "YELLOW"
    RED = "RED"


class Severity(StrEnum):
    INFO = "INFO"
    WARN = "WARN"
    CRIT = "CRIT"


class Command(StrEnum):
    SAFE_MODE_ON = "safe_mode_on"
    SAFE_MODE_OFF = "safe_mode_off"
    RELOAD_CONFIG = "reload_config"
    RECONCILE = "reconcile"
    SET_PROFILE = "set_profile"  # strategy: args {"profile": name}, optional {"reset_kill_switch": "true"}
    RESTART = "restart"  # one named service: stop gracefully so that its supervisor starts it again
    RUN_JOB = "run_job"  # worker: args {"job": name}; the run record carries the command_id as its trigger
    PROFILE_DECISION = "profile_decision"  # worker: args {"profile", "version", "decision" (ProfileDecision)}
    # strategy: args {"symbols": "A,B", "for_s": seconds (0 lifts it), "why"}: no new entry on those symbols
    # until it lapses (a scenario claiming them for its own orders); exits and protection go on
    PAUSE_ENTRIES = "pause_entries"


class ProcessUsage(msgspec.Struct, frozen=True, kw_only=True):
    """A service's own process as it measures itself: the dashboard shows it wherever the service runs,
    also where it cannot see the process (under systemd each unit has its own user namespace and /proc)."""

    rss_mb: float
    cpu_s: float  # user + system since the process started
    threads: int


class Heartbeat(Message, frozen=True, kw_only=True, tag="heartbeat"):
    """A service saying it is alive, every second."""

    v: int = SCHEMA_VERSION
    service: str
    cluster: str
    pid: int
    start_ts_ns: int
    ts_ns: int
    version: str
    status: Status
    reason: str = ""
    safe_mode: bool = False
    consumer_lag: dict[str, int] = {}  # stream -> entries not yet delivered to our group
    last_error: str = ""
    details: dict[str, str] = {}  # service-specific facts (active profile, mode, ...)
    supervisor: str = ""  # "systemd", "supervisord", or "" when nothing would start it again
    boot_id: str = ""  # random, new at every process start (v2)
    release: str = ""  # the release commit the process runs (common.lifecycle.release_commit), "" unknown
    process: ProcessUsage | None = None

    def instance(self) -> str:
        """Which process of the service beats: different after every restart, however quick."""
        return self.boot_id or f"{self.pid}@{self.start_ts_ns}"


class Alert(Message, frozen=True, kw_only=True, tag="alert"):
    """Something an operator should know. `key` groups repeats for deduplication."""

    v: int = SCHEMA_VERSION
    key: str
    severity: Severity
    source: str
    title: str
    detail: str = ""
    ts_ns: int


class ControlCommand(Message, frozen=True, kw_only=True, tag="control"):
    """An operator's command; `target` is a service name or "*" for all."""

    v: int = SCHEMA_VERSION
    command_id: str
    command: Command
    target: str = "*"
    args: dict[str, str] = {}
    issued_by: str = ""
    ts_ns: int


class DeadLetter(Message, frozen=True, kw_only=True, tag="dead_letter"):
    """A stream entry that could not be decoded or handled, kept with the reason."""

    v: int = SCHEMA_VERSION
    stream: str
    entry_id: str
    group: str
    consumer: str
    error: str
    raw: bytes
    ts_ns: int


# The tagged messages of this family, for the registry (common.schemas.registry).
MESSAGES: tuple[type[Message], ...] = (Heartbeat, Alert, ControlCommand, DeadLetter)
