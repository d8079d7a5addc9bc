"""What the operations' JSON routes answer (the worker's jobs, deploys, configuration, scenarios, sessions),
as `api_models` does for the rest, with the same rules.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from dashboard.api_models import OtherServiceShape
from dashboard.records import RunRecord
from dashboard.struct_mirror import mirror

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
