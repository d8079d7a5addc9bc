"""Records the dashboard keeps itself and its API shows as they are: scenario runs step by step (in Redis,
SCENARIO_RUNS_KEY).

Below every other dashboard module: the scenario runner writes these and api_models mirrors them for the
OpenAPI schema, so neither has to import the other."""

from __future__ import annotations

import msgspec


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
