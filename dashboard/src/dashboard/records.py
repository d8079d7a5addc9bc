"""Records the dashboard keeps itself and its API shows as they are: the alert center's alerts, and scenario
runs step by step (in Redis, SCENARIO_RUNS_KEY).

Below every other dashboard module: the alert engine and the scenario runner write these and api_models
documents them for the OpenAPI schema, so api_models imports neither."""

from __future__ import annotations

from dataclasses import dataclass

import msgspec


@dataclass
class AlertRecord:
    """One alert as the operator sees it; `telegram` is "", "pending", "sent", "retrying" or "off"."""

    id: int
    key: str
    severity: str
    source: str
    title: str
    detail: str
    ts_ns: int
    repeats: int = 0
    last_ts_ns: int = 0
    acked_by: str = ""
    telegram: str = ""
    attempts: int = 0
    last_error: str = ""


class StepRecord(msgspec.Struct, kw_only=True):
    """One step of a run: pending, running, ok or failed, with what it saw."""

    name: str
    timeout_s: float
    outcome: str = "pending"  # pending | running | ok | failed
    detail: str = ""
    start_ns: int = 0
    end_ns: int = 0


class RunRecord(msgspec.Struct, kw_only=True):
    """One scenario run: RUNNING until it ends GREEN (every step ok) or RED."""

    run_id: str
    scenario: str
    title: str
    by: str
    status: str = "RUNNING"  # RUNNING | GREEN | RED
    start_ns: int
    end_ns: int = 0
    steps: list[StepRecord] = []
    errors: list[str] = []
    figures: dict[str, float] = {}  # what the run measured, by name: `_s` seconds, `_ms` milliseconds, else counts
    params: dict[str, str] = {}  # what the operator chose for the run (scenario 7: seed or recording, profile)
    report: dict[str, str] = {}  # a summary the run produced (scenario 7: the replay's report)
    files: list[str] = []  # files the run wrote, at /api/scenarios/runs/<run_id>/files/<name>
    resume: str = ""  # a resumable run's facts (JSON), for the dashboard process that goes on with it
