"""What a scenario is made of: named steps, each a check polled against the real platform until it holds
or its timeout passes, and the context the checks of one run share."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from common.lifecycle import Runtime

from dashboard.alert_engine import AlertEngine
from dashboard.health_monitor import HealthMonitor


RUNS_DIR = "scenarios"  # under DATA_DIR: one directory per run that writes files


def run_dir(data_dir: Path, run_id: str) -> Path:
    """Where a run keeps its files."""
    return Path(data_dir) / RUNS_DIR / run_id


class StepFailed(Exception):
    """Something the scenario proves went wrong: the step fails at once, the message says what."""


@dataclass
class Context:
    """What the steps of one run look at, what they remember for later steps (`facts`), and what they
    measured (`figures`, by name: seconds end in `_s`, milliseconds in `_ms`, the rest are counts), which the
    runner stores with the run, as it does `report` and `files`."""

    rt: Runtime
    monitor: HealthMonitor
    alerts: AlertEngine
    facts: dict = field(default_factory=dict)
    figures: dict[str, float] = field(default_factory=dict)
    run_id: str = ""
    params: dict[str, str] = field(default_factory=dict)  # what the operator chose (scenario.prepare's result)
    report: dict[str, str] = field(default_factory=dict)  # a summary the run shows (e.g. a replay's report)
    files: list[str] = field(default_factory=list)  # files the run wrote to its directory, shown on the page

    def since_fault(self, name: str, at_ns: int) -> None:
        """Figure `name`: seconds from the fault (facts["fault_ns"]) to `at_ns`, a platform timestamp."""
        self.figures[name] = round((at_ns - self.facts["fault_ns"]) / 1e9, 3)

    def service(self, name: str) -> dict:
        """The service's row in the health monitor's snapshot."""
        return next(s for s in self.monitor.snapshot()["services"] if s["name"] == name)


# (ctx) -> (holds, detail): polled until it holds; an exception fails the step at once.
Check = Callable[[Context], Awaitable[tuple[bool, str]]]


@dataclass(frozen=True)
class Step:
    """A named check with the time it is given to hold."""

    name: str
    timeout_s: float
    check: Check


@dataclass(frozen=True)
class Scenario:
    """A catalogue entry: its key (the URL's), its title and its steps in order."""

    key: str
    title: str
    steps: tuple[Step, ...]
    sim_only: bool = False  # injects faults or trades: refused unless EXECUTION_MODE is SIM
    cleanup: Callable[[Context], Awaitable[str]] | None = None  # after a failed step: undo what the run set
    refusal: Callable[[Runtime], str] | None = None  # why this host cannot run it ("" when it can)
    resumable: bool = False  # its run goes on after a dashboard restart (facts kept as JSON in the run)
    # the run's parameters from what the operator gave and DATA_DIR; ValueError naming a bad field
    prepare: Callable[[dict[str, str], Path], dict[str, str]] | None = None
    # the values a parameter can take, offered as a list, from DATA_DIR (parameter -> values)
    choices: Callable[[Path], dict[str, list[str]]] | None = None
