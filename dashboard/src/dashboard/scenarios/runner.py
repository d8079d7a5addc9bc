"""Runs one scenario at a time in the background, step by step, and keeps each run and its steps, measured
figures and files in Redis (SCENARIO_RUNS_KEY) as it progresses; at start, a run cut off by a dashboard stop
is closed RED, or goes on when its scenario is resumable (a deploy restarts the dashboard)."""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
import time

import msgspec
from common.config import ExecutionMode
from common.lifecycle import Runtime
from common.schemas import now_ns

from common import constants as c
from dashboard.alert_engine import AlertEngine
from dashboard.health_monitor import HealthMonitor
from dashboard.records import RunRecord, StepRecord
from dashboard.scenarios.catalogue import SCENARIOS
from dashboard.scenarios.steps import Context, Scenario, Step, StepFailed, run_dir

log = logging.getLogger(__name__)
POLL_S = 0.5
KEEP_RUNS = 50


class Refused(Exception):
    """The scenario may not run now (mode, this host, or another run in progress)."""



class Runner:
    """Starts one run at a time in the background and records it in Redis as it goes."""

    def __init__(self, *, rt: Runtime, monitor: HealthMonitor, alerts: AlertEngine) -> None:
        self.rt, self.monitor, self.alerts = rt, monitor, alerts
        self.task: asyncio.Task | None = None

    def refusal(self, scenario: Scenario) -> str:
        """Why this scenario may not run now, or "" when it may."""
        if scenario.sim_only and self.rt.settings.execution_mode is not ExecutionMode.SIM:
            return f"{scenario.key} injects faults or trades: it runs only when EXECUTION_MODE is SIM"
        if scenario.refusal is not None and (why := scenario.refusal(self.rt)):
            return why
        if self.task is not None and not self.task.done():
            return "another scenario run is in progress"
        return ""

    async def start(self, key: str, *, by: str, given: dict[str, str] | None = None) -> RunRecord:
        """The new run, recorded RUNNING, its steps going on in a task; Refused when it may not run now,
        ValueError (naming the field) when `given` parameters are wrong for it."""
        scenario = SCENARIOS[key]
        params = self.parameters(scenario, given or {})
        if problem := self.refusal(scenario):
            raise Refused(problem)
        start = now_ns()
        run = RunRecord(run_id=f"{start:020d}", scenario=key, title=scenario.title, by=by, start_ns=start,
                        params=params,
                        steps=[StepRecord(name=s.name, timeout_s=s.timeout_s) for s in scenario.steps])
        await self._save(run)
        self.task = asyncio.create_task(self._run(scenario, run), name=f"scenario-{key}")
        return run

    def parameters(self, scenario: Scenario, given: dict[str, str]) -> dict[str, str]:
        """The run's parameters: `given` checked and completed by the scenario; ValueError when it takes none."""
        if scenario.prepare is not None:
            return scenario.prepare(given, self.rt.settings.data_dir)
        if given:
            raise ValueError(f"{scenario.key} takes no parameters, got {', '.join(sorted(given))}")
        return {}

    async def close_interrupted(self) -> list[str]:
        """At start: a run still RUNNING was cut off by the dashboard stopping; it ends RED, saying so, unless
        its scenario is resumable (a deploy restarts the dashboard): that one goes on in this process."""
        cut = []
        for raw in (await self.rt.bus.redis.hgetall(c.SCENARIO_RUNS_KEY)).values():
            run = msgspec.json.decode(raw, type=RunRecord)
            if run.status != "RUNNING":
                continue
            scenario = SCENARIOS.get(run.scenario)
            if scenario is not None and scenario.resumable and (self.task is None or self.task.done()):
                log.info("scenario_resumed", extra={"ctx": {"scenario": run.scenario, "run_id": run.run_id}})
                self.task = asyncio.create_task(self._run(scenario, run), name=f"scenario-{run.scenario}")
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
        """Each step in turn until one fails; GREEN when none did. The run is saved after every change."""
        ctx = Context(rt=self.rt, monitor=self.monitor, alerts=self.alerts, run_id=run.run_id,
                      params=dict(run.params), facts=json.loads(run.resume or "{}"), figures=dict(run.figures),
                      report=dict(run.report), files=list(run.files))
        for step, record in zip(scenario.steps, run.steps):
            if record.outcome == "ok":  # done before a dashboard restart (a resumed run)
                continue
            if record.outcome != "running":
                record.outcome, record.start_ns = "running", now_ns()
            await self._save(run)
            try:
                record.detail = await _until(step, ctx)
                record.outcome = "ok"
            except Exception as e:  # a failed step ends the run RED, whatever went wrong
                record.outcome, record.detail = "failed", str(e) or type(e).__name__
                run.errors.append(f"{step.name}: {record.detail}")
            record.end_ns = now_ns()
            run.figures, run.report, run.files = dict(ctx.figures), dict(ctx.report), list(ctx.files)
            if scenario.resumable:
                run.resume = json.dumps(ctx.facts)
            if record.outcome == "failed":
                break
        failed = any(s.outcome == "failed" for s in run.steps)
        if failed and scenario.cleanup is not None:
            run.errors.append(await _cleanup(scenario, ctx))
        run.errors += _platform_errors(self.monitor)
        run.status, run.end_ns = ("RED" if failed else "GREEN"), now_ns()
        log.info("scenario_run", extra={"ctx": {"scenario": run.scenario, "status": run.status}})
        await self._save(run)

    async def _save(self, run: RunRecord) -> None:
        """The run into Redis; only the newest KEEP_RUNS are kept, and the files of the runs kept."""
        redis = self.rt.bus.redis
        await redis.hset(c.SCENARIO_RUNS_KEY, run.run_id, msgspec.json.encode(run))
        keys = sorted(k.decode() for k in await redis.hkeys(c.SCENARIO_RUNS_KEY))
        old, kept = keys[:-KEEP_RUNS], set(keys[-KEEP_RUNS:])
        if old:
            await redis.hdel(c.SCENARIO_RUNS_KEY, *old)
        if run.files:  # a run that writes files: those of runs no longer kept (here or by the worker) go
            for folder in run_dir(self.rt.settings.data_dir, "").glob("[0-9]" * 20):
                if folder.name not in kept:
                    shutil.rmtree(folder, ignore_errors=True)


async def _until(step: Step, ctx: Context) -> str:
    """The step's detail once its check holds; StepFailed with the last detail when its timeout passes."""
    deadline = time.monotonic() + step.timeout_s
    while True:
        ok, detail = await step.check(ctx)
        if ok:
            return detail
        if time.monotonic() >= deadline:
            raise StepFailed(f"not within {step.timeout_s:g} s: {detail}")
        await asyncio.sleep(POLL_S)


async def _cleanup(scenario: Scenario, ctx: Context) -> str:
    """The scenario's cleanup after a failed step, as a line of the run's errors (what it did, or its error)."""
    try:
        return f"cleanup: {await scenario.cleanup(ctx) or 'nothing to undo'}"
    except Exception as e:  # the run is RED already; what the cleanup could not undo is said
        return f"cleanup failed: {e or type(e).__name__}"


def _platform_errors(monitor: HealthMonitor) -> list[str]:
    """The services' last errors at the end of the run, as their heartbeats report them."""
    return [f"{s['name']}: {s['last_error']}" for s in monitor.snapshot()["services"] if s["last_error"]]


async def history(redis, *, limit: int = 20) -> list[dict]:
    """Runs, newest first."""
    raw = await redis.hgetall(c.SCENARIO_RUNS_KEY)
    # decoded as RunRecord: a run stored before a field was added shows it with its default
    return [msgspec.to_builtins(msgspec.json.decode(raw[k], type=RunRecord))
            for k in sorted(raw, reverse=True)[:limit]]
