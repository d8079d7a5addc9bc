"""When the worker's jobs run, and the one path every run takes (lock, record, metrics, alert).

APScheduler 3's AsyncIOScheduler with a RedisJobStore on the bus Redis. Why Redis and not SQLite:
the job store then lives with the rest of the platform's working state (AOF, backed up by the backup
job), needs no extra dependency, and the scheduler's next run times survive a restart, so a run that
fell due while the worker was down is noticed at start: run late within its grace time, or reported
missed (with an alert) beyond it.

Job options, chosen on purpose:
- `coalesce=True`: a backlog of missed runs (the worker down for a day) collapses into one run;
  every job is idempotent and only the latest state matters, so repeating it would only cost time.
- `max_instances=1`: no overlap inside one process; across processes and restarts the Redis run
  lock (runs.RunLock) guarantees the same, and a manual run that meets a held lock is SKIPPED.
- `misfire_grace_time`: how late a run may still start. The hourly jobs get 10 minutes (the next hour
  comes soon); the daily ones (backup, profile) 6 hours, so a worker restarted during the night still
  makes the day's backup; later than that the run is MISSED, recorded and alerted.

The stored job calls `run_scheduled(name)` by its import path (a persistent store pickles a text
reference, not an object), which hands over to the one JobRunner of this process.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timezone
from typing import Protocol

import redis
from apscheduler.events import EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.jobstores.redis import RedisJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from common import config
from common import constants as c
from common.cron import cron_trigger
from common.bus import Bus
from common.schemas import Severity
from worker import metrics
from worker.runs import JobResult, Outcome, RunLock, RunRecord, RunRecorder

log = logging.getLogger(__name__)

HOURLY_GRACE_S = 600
DAILY_GRACE_S = 6 * 3600


@dataclass
class JobContext:
    """What a job gets: the settings of this run and a synchronous Redis client (jobs run in a thread)."""

    settings: config.Settings
    redis: redis.Redis


class Job(Protocol):
    """One housekeeping job: idempotent, bounded, and reporting what it did."""

    name: str
    grace_s: int
    cron_setting: str  # the setting holding its schedule, a crontab line (UTC)

    def run(self, ctx: JobContext) -> JobResult: ...


def schedule_of(job: Job, settings: config.Settings) -> str:
    return getattr(settings, job.cron_setting)


_runner: JobRunner | None = None  # this process's runner, for run_scheduled (see the module docstring)


async def run_scheduled(name: str) -> None:
    """The function the job store refers to; runs `name` through this process's JobRunner."""
    if _runner is not None:
        await _runner.run(name, trigger="schedule")


class JobRunner:
    """Runs a job under its lock in a worker thread, records it, counts it, alerts on failure."""

    def __init__(self, *, bus: Bus, jobs: list[Job], settings: Callable[[], config.Settings]) -> None:
        self.bus = bus
        self.jobs = {job.name: job for job in jobs}
        for name in self.jobs:  # exported at 0 from the start, so Prometheus' increase() sees a first failure
            metrics.JOB_FAILURES.labels(name)
            for outcome in (Outcome.FAILED, Outcome.MISSED):
                metrics.JOB_RUNS.labels(name, outcome.value)
        self.settings = settings
        self.recorder = RunRecorder(bus.redis)
        self.scheduler: AsyncIOScheduler | None = None
        self._sync: redis.Redis | None = None
        self._missed: set[asyncio.Task] = set()

    def context(self) -> JobContext:
        """This run's settings and the synchronous Redis client jobs (and profile decisions) use."""
        settings = self.settings()
        if self._sync is None:
            self._sync = redis.Redis.from_url(settings.redis_url.get_secret_value(), socket_timeout=60)
        return JobContext(settings=settings, redis=self._sync)

    def next_run_ts(self, name: str) -> float | None:
        job = self.scheduler.get_job(name) if self.scheduler else None
        return job.next_run_time.timestamp() if job and job.next_run_time else None

    async def _summarise(self, name: str, ended: RunRecord | None = None) -> None:
        summary = await self.recorder.summarise(name, schedule=schedule_of(self.jobs[name], self.settings()),
                                                next_run_ts=self.next_run_ts(name), ended=ended)
        if summary["last_success_ts"]:  # also at start: the gauge carries over a restart, as the record does
            metrics.JOB_LAST_SUCCESS.labels(name).set(summary["last_success_ts"])

    async def run(self, name: str, *, trigger: str) -> RunRecord:
        """One run of `name`; a run that finds the job's lock held is recorded as SKIPPED."""
        job = self.jobs[name]
        lock = RunLock(self.bus.redis, name, ttl_ms=int(self.settings().worker_lock_ttl_s * 1000))
        record = RunRecord(job=name, trigger=trigger)
        if not await lock.acquire():
            record.outcome, record.end_ts, record.error = Outcome.SKIPPED, time.time(), "already running"
            await self.recorder.push(record)
            metrics.JOB_RUNS.labels(name, record.outcome.value).inc()
            return record
        try:
            await self.recorder.push(record)
            log.info("job_started", extra={"ctx": {"job": name, "trigger": trigger, "run_id": record.run_id}})
            try:
                result = await asyncio.to_thread(job.run, self.context())
            except Exception as e:  # a failing job is recorded and alerted; the worker goes on
                log.exception("job_failed", extra={"ctx": {"job": name, "run_id": record.run_id}})
                record.outcome, record.error = Outcome.FAILED, f"{type(e).__name__}: {e}"[:2000]
            else:
                record.outcome = Outcome.OK
                record.counts, record.bytes, record.detail = result.counts, result.bytes, result.detail
            record.end_ts = time.time()
            await self.recorder.finish(record)
        finally:
            await lock.release()
        await self._ended(record)
        return record

    async def _ended(self, record: RunRecord) -> None:
        name = record.job
        metrics.JOB_RUNS.labels(name, record.outcome.value).inc()
        if record.end_ts is not None and record.outcome is not Outcome.MISSED:
            metrics.JOB_SECONDS.labels(name).observe(record.end_ts - record.start_ts)
        if record.outcome is not Outcome.OK:
            metrics.JOB_FAILURES.labels(name).inc()
            severity = Severity.CRIT if name == c.JOB_BACKUP else Severity.WARN
            await self.bus.alert(key=f"job:{name}", severity=severity,
                                 title=f"worker job {name} {record.outcome.value}", detail=record.error)
        log.info("job_ended", extra={"ctx": {"job": name, "outcome": record.outcome.value, "run_id": record.run_id,
                                             "counts": record.counts, "bytes": record.bytes}})
        await self._summarise(name, ended=record)

    async def missed(self, name: str, scheduled_ts: float) -> None:
        """A scheduled run that could not start within its grace time: recorded and alerted."""
        record = RunRecord(job=name, trigger="schedule", start_ts=scheduled_ts, end_ts=time.time(),
                           outcome=Outcome.MISSED,
                           error=f"scheduled for {scheduled_ts:.0f}, not started within {self.jobs[name].grace_s} s")
        await self.recorder.push(record)
        await self._ended(record)

    async def start(self, settings: config.Settings) -> None:
        """Start the scheduler from the persistent store, with the schedules of `settings`."""
        global _runner
        _runner = self
        store = RedisJobStore(jobs_key=c.WORKER_SCHEDULER_JOBS_KEY, run_times_key=c.WORKER_SCHEDULER_TIMES_KEY)
        # The store takes host/port keywords only; a client from the URL serves every form of REDIS_URL
        # (password, TLS, unix socket). Its calls are synchronous: a few per wakeup, on loopback.
        store.redis = redis.Redis.from_url(settings.redis_url.get_secret_value(), socket_timeout=10)
        self.scheduler = AsyncIOScheduler(jobstores={"default": store}, timezone=timezone.utc,
                                          job_defaults={"coalesce": True, "max_instances": 1})
        loop = asyncio.get_running_loop()
        self.scheduler.add_listener(lambda ev: self._on_missed(loop, ev), EVENT_JOB_MISSED)
        self.scheduler.start(paused=True)
        await self.sync(settings)
        self.scheduler.resume()

    async def sync(self, settings: config.Settings) -> None:
        """Keep each stored job whose schedule is unchanged (its stored next run time is what reveals a
        run missed while the worker was down), replace the others; also on a config reload."""
        for name, job in self.jobs.items():
            trigger = cron_trigger(schedule_of(job, settings))
            stored = self.scheduler.get_job(name)
            if stored is None or str(stored.trigger) != str(trigger) or stored.misfire_grace_time != job.grace_s:
                self.scheduler.add_job(run_scheduled, trigger, args=[name], id=name, name=name,
                                       misfire_grace_time=job.grace_s, replace_existing=True)
        for stored in self.scheduler.get_jobs():
            if stored.id not in self.jobs:
                stored.remove()
        for name in self.jobs:
            await self._summarise(name)

    def _on_missed(self, loop: asyncio.AbstractEventLoop, event: JobExecutionEvent) -> None:
        ts = event.scheduled_run_time.timestamp()
        loop.call_soon_threadsafe(self._record_missed, event.job_id, ts)

    def _record_missed(self, name: str, ts: float) -> None:
        task = asyncio.get_running_loop().create_task(self.missed(name, ts), name=f"missed:{name}")
        self._missed.add(task)
        task.add_done_callback(self._missed.discard)

    async def stop(self) -> None:
        global _runner
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        if self._sync is not None:
            self._sync.close()
        _runner = None
