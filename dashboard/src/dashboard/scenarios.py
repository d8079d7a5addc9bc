"""Production scenarios (DESIGN.md section 9) run against the live platform from the dashboard.

Each scenario is a list of named steps, each polled against the real platform (health monitor, alert
engine, execution's state in Redis) until it holds or its timeout passes. The faults (kill -9, the
simulator's private-WS drop) hurt a live platform and the rapid-fire orders (rapid_fire.py) trade on it,
so those scenarios are refused unless EXECUTION_MODE is SIM. A run and its steps are kept in Redis
(SCENARIO_RUNS_KEY) as they progress.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import msgspec
import psutil
from common.bybit.http import BybitHttp
from common.config import ExecutionMode
from common.lifecycle import Runtime
from common.schemas import Severity, now_ns

from common import constants as c
from dashboard import rapid_fire, state
from dashboard.alerts import AlertEngine
from dashboard.monitor import HealthMonitor

log = logging.getLogger(__name__)
POLL_S = 0.5
KEEP_RUNS = 50
PROCESS_START_SLACK_S = 30.0  # a heartbeat's start time and the OS's process start time agree this well


class StepFailed(Exception):
    pass


class Refused(Exception):
    """The scenario may not run now (mode, or another run in progress)."""


class StepRecord(msgspec.Struct, kw_only=True):
    name: str
    timeout_s: float
    outcome: str = "pending"  # pending | running | ok | failed
    detail: str = ""
    start_ns: int = 0
    end_ns: int = 0


class RunRecord(msgspec.Struct, kw_only=True):
    run_id: str
    scenario: str
    title: str
    by: str
    status: str = "RUNNING"  # RUNNING | GREEN | RED
    start_ns: int
    end_ns: int = 0
    steps: list[StepRecord] = []
    errors: list[str] = []


@dataclass
class Context:
    """What the steps of one run look at, and what they remember for later steps."""

    rt: Runtime
    monitor: HealthMonitor
    alerts: AlertEngine
    facts: dict = field(default_factory=dict)

    def service(self, name: str) -> dict:
        return next(s for s in self.monitor.snapshot()["services"] if s["name"] == name)


Check = Callable[[Context], Awaitable[tuple[bool, str]]]


@dataclass(frozen=True)
class Step:
    name: str
    timeout_s: float
    check: Check  # polled until it says True; an exception fails the step at once


@dataclass(frozen=True)
class Scenario:
    key: str
    title: str
    steps: tuple[Step, ...]
    sim_only: bool = False


async def _all_green(ctx: Context) -> tuple[bool, str]:
    services = ctx.monitor.snapshot()["services"]
    other = [f"{s['name']} {s['status']} ({s['reason']})" for s in services if s["status"] != "GREEN"]
    return not other, ", ".join(other) or f"{len(services)} services GREEN"


def _green(service: str) -> Check:
    async def check(ctx: Context) -> tuple[bool, str]:
        s = ctx.service(service)
        if s["status"] != "GREEN" or not s["pid"]:
            return False, f"{service} {s['status']} ({s['reason']})"
        hb = ctx.monitor.services[service].heartbeat
        ctx.facts.update(pid=s["pid"], restarts=s["restarts"], start_s=hb.start_ts_ns / 1e9 if hb else 0.0)
        return True, f"{service} GREEN, pid {s['pid']}, restarts {s['restarts']}"

    return check


def _kill(service: str) -> Check:
    async def check(ctx: Context) -> tuple[bool, str]:
        pid = ctx.facts["pid"]
        try:
            proc = psutil.Process(pid)
            cmdline = " ".join(proc.cmdline())
            started = proc.create_time()
        except psutil.Error as e:
            raise StepFailed(f"pid {pid} is not a process on this host: {e}") from e
        if f"scalper-{service}" not in cmdline or abs(ctx.facts["start_s"] - started) > PROCESS_START_SLACK_S:
            raise StepFailed(f"pid {pid} on this host is not {service}'s process: {cmdline!r}")
        ctx.facts["fault_ns"] = now_ns()
        os.kill(pid, signal.SIGKILL)
        return True, f"SIGKILL sent to pid {pid}"

    return check


def _red(service: str) -> Check:
    async def check(ctx: Context) -> tuple[bool, str]:
        s = ctx.service(service)
        return s["status"] == "RED", f"{service} {s['status']} ({s['reason']})"

    return check


def _back(service: str) -> Check:
    async def check(ctx: Context) -> tuple[bool, str]:
        s = ctx.service(service)
        old, restarts = ctx.facts["pid"], ctx.facts["restarts"]
        detail = f"{service} {s['status']}, pid {old} -> {s['pid']}, restarts {restarts} -> {s['restarts']}"
        return s["status"] == "GREEN" and s["pid"] not in (None, old) and s["restarts"] > restarts, detail

    return check


def _alert(key: str, severity: Severity) -> Check:
    async def check(ctx: Context) -> tuple[bool, str]:
        since = ctx.facts["fault_ns"]
        for a in ctx.alerts.listing(severity=severity.value):
            if a["key"] == key and max(a["ts_ns"], a["last_ts_ns"]) >= since:
                return True, f"{a['severity']} {a['title']}"
        return False, f"no {severity.value} alert {key} since the fault"

    return check


def _safe(hold: str) -> Check:
    """Execution in SAFE for this hold, or already recovering from it (its alert proves the edge)."""

    async def check(ctx: Context) -> tuple[bool, str]:
        view = await state.execution_state(ctx.rt.bus.redis) or {}
        ok = hold in view.get("holds", {}) or view.get("state") == "RECOVERING"
        seen, alert = await _alert(f"execution:{hold}", Severity.CRIT)(ctx)
        return ok or seen, f"execution {view.get('state')}: {view.get('reason', '')}; {alert}"

    return check


async def _normal(ctx: Context) -> tuple[bool, str]:
    """Execution NORMAL again after a recovery plan that started after the fault and ended ok."""
    redis = ctx.rt.bus.redis
    view = await state.execution_state(redis) or {}
    plans = [p for p in await state.recovery_plans(redis) if p.get("start_ns", 0) >= ctx.facts["fault_ns"]]
    done = [p for p in plans if p.get("outcome") == "ok"]
    detail = f"execution {view.get('state')} ({view.get('reason', '')}); plans since the fault: " + (
        ", ".join(f"{p.get('trigger')}: {p.get('outcome')}" for p in plans) or "none"
    )
    return view.get("state") == "NORMAL" and bool(done), detail


async def _ready_to_trade(ctx: Context) -> tuple[bool, str]:
    green, detail = await _all_green(ctx)
    view = await state.execution_state(ctx.rt.bus.redis) or {}
    normal = view.get("state") == "NORMAL"
    return green and normal, f"{detail}; execution {view.get('state')} {view.get('reason', '')}".rstrip()


async def _drop_private_ws(ctx: Context) -> tuple[bool, str]:
    """The simulator's fault switch, as `scalperctl sim drop private` flips it."""
    s = ctx.rt.settings
    if not s.bybit_rest_url:
        raise StepFailed("BYBIT_REST_URL is not set: no simulator to reach")
    http = BybitHttp(base_url=s.bybit_rest_url, api_key=s.bybit_api_key.get_secret_value(),
                     api_secret=s.bybit_api_secret.get_secret_value(), timeout_s=5.0, time_sync=False)
    try:
        ctx.facts["fault_ns"] = now_ns()
        result = await http.post("/admin/faults", {"drop": ["private"]}, dict)
    finally:
        await http.aclose()
    return True, f"simulator: {result}"


def _crash(service: str, *, title: str, hold: str) -> Scenario:
    return Scenario(key=f"{service}-crash", title=title, sim_only=True, steps=(
        Step(f"{service} GREEN, its pid on this host", 60, _green(service)),
        Step(f"kill -9 {service}", 5, _kill(service)),
        Step(f"{service} seen RED", 30, _red(service)),
        Step(f"execution SAFE ({hold})", 30, _safe(hold)),
        Step(f"{service} GREEN again, new pid, restart counted", 120, _back(service)),
        Step("recovery plan ok, execution NORMAL", 120, _normal),
    ))


SCENARIOS: dict[str, Scenario] = {s.key: s for s in (
    Scenario(key="full-boot", title="1. Full boot: all five services GREEN",
             steps=(Step("five services GREEN", 60, _all_green),)),
    _crash("market", title="3. market service crashes: restart, SAFE, recovery, NORMAL",
           hold="module:market"),
    Scenario(key="private-ws-drop", title="4. Private WS drops: SAFE, CRIT alert, resync, NORMAL",
             sim_only=True, steps=(
                 Step("platform GREEN", 60, _all_green),
                 Step("simulator drops the private WS", 10, _drop_private_ws),
                 Step("execution SAFE, CRIT alert", 30, _alert(c.EXEC_WS_ALERT, Severity.CRIT)),
                 Step("recovery plan ok, execution NORMAL", 120, _normal),
             )),
    _crash("strategy", title="5. strategy service crashes: MODULE_CRASH, CRIT alert, recovery",
           hold="module:strategy"),
    Scenario(key="rapid-fire", title="6. Rapid-fire orders with TP/SL: all filled once, every position "
             "protected", sim_only=True, steps=(
                 Step("platform GREEN, execution NORMAL", 60, _ready_to_trade),
                 Step(f"{rapid_fire.ORDERS} manual intents with TP/SL, back to back", 30, rapid_fire.send),
                 Step("each filled by one order; intent→ack p50/max", 30, rapid_fire.filled),
                 Step("every open position has a TP and an SL", 30, rapid_fire.protected),
                 Step("reduce-only intents close what the run opened", 10, rapid_fire.close),
                 Step("closes filled, the run's symbols flat", 30, rapid_fire.closed),
             )),
)}


class Runner:
    """Starts one run at a time in the background and records it in Redis as it goes."""

    def __init__(self, *, rt: Runtime, monitor: HealthMonitor, alerts: AlertEngine) -> None:
        self.rt, self.monitor, self.alerts = rt, monitor, alerts
        self.task: asyncio.Task | None = None

    def refusal(self, scenario: Scenario) -> str:
        """Why this scenario may not run now, or "" when it may."""
        if scenario.sim_only and self.rt.settings.execution_mode is not ExecutionMode.SIM:
            return f"{scenario.key} injects faults or trades: it runs only when EXECUTION_MODE is SIM"
        if self.task is not None and not self.task.done():
            return "another scenario run is in progress"
        return ""

    async def start(self, key: str, *, by: str) -> RunRecord:
        scenario = SCENARIOS[key]
        if problem := self.refusal(scenario):
            raise Refused(problem)
        start = now_ns()
        run = RunRecord(run_id=f"{start:020d}", scenario=key, title=scenario.title, by=by, start_ns=start,
                        steps=[StepRecord(name=s.name, timeout_s=s.timeout_s) for s in scenario.steps])
        await self._save(run)
        self.task = asyncio.create_task(self._run(scenario, run), name=f"scenario-{key}")
        return run

    async def close_interrupted(self) -> list[str]:
        """At start: a run still RUNNING was cut off by the dashboard stopping; it ends RED, saying so."""
        cut = []
        for raw in (await self.rt.bus.redis.hgetall(c.SCENARIO_RUNS_KEY)).values():
            run = msgspec.json.decode(raw, type=RunRecord)
            if run.status != "RUNNING":
                continue
            for record in run.steps:
                if record.outcome == "running":
                    record.outcome, record.detail = "failed", "interrupted"
            run.errors.append("interrupted: the dashboard stopped during the run")
            run.status, run.end_ns = "RED", now_ns()
            await self._save(run)
            cut.append(run.run_id)
        return cut

    async def _run(self, scenario: Scenario, run: RunRecord) -> None:
        ctx = Context(rt=self.rt, monitor=self.monitor, alerts=self.alerts)
        for step, record in zip(scenario.steps, run.steps):
            record.outcome, record.start_ns = "running", now_ns()
            await self._save(run)
            try:
                record.detail = await _until(step, ctx)
                record.outcome = "ok"
            except Exception as e:  # a failed step ends the run RED, whatever went wrong
                record.outcome, record.detail = "failed", str(e) or type(e).__name__
                run.errors.append(f"{step.name}: {record.detail}")
            record.end_ns = now_ns()
            if record.outcome == "failed":
                break
        run.errors += _platform_errors(self.monitor)
        failed = any(s.outcome == "failed" for s in run.steps)
        run.status, run.end_ns = ("RED" if failed else "GREEN"), now_ns()
        log.info("scenario_run", extra={"ctx": {"scenario": run.scenario, "status": run.status}})
        await self._save(run)

    async def _save(self, run: RunRecord) -> None:
        redis = self.rt.bus.redis
        await redis.hset(c.SCENARIO_RUNS_KEY, run.run_id, msgspec.json.encode(run))
        old = sorted(await redis.hkeys(c.SCENARIO_RUNS_KEY))[:-KEEP_RUNS]
        if old:
            await redis.hdel(c.SCENARIO_RUNS_KEY, *old)


async def _until(step: Step, ctx: Context) -> str:
    deadline = time.monotonic() + step.timeout_s
    while True:
        ok, detail = await step.check(ctx)
        if ok:
            return detail
        if time.monotonic() >= deadline:
            raise StepFailed(f"not within {step.timeout_s:g} s: {detail}")
        await asyncio.sleep(POLL_S)


def _platform_errors(monitor: HealthMonitor) -> list[str]:
    """The services' last errors at the end of the run, as their heartbeats report them."""
    return [f"{s['name']}: {s['last_error']}" for s in monitor.snapshot()["services"] if s["last_error"]]


async def history(redis, *, limit: int = 20) -> list[dict]:
    """Runs, newest first."""
    raw = await redis.hgetall(c.SCENARIO_RUNS_KEY)
    return [msgspec.json.decode(raw[k]) for k in sorted(raw, reverse=True)[:limit]]
