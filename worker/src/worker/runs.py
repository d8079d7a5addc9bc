"""Run records and run locks of the worker's jobs, in Redis, where the CLI and a jobs page read them.

Every run leaves one JSON record at the head of `job_runs_key(job)` (newest first, JOB_HISTORY kept):
{run_id, job, trigger, start_ts, end_ts, outcome, counts, bytes, error}, times in epoch seconds.
`WORKER_JOBS_KEY` holds one summary per job (schedule, next run, last run, consecutive failures, totals).

A run holds `job_lock_key(job)` (SET NX PX with a random token, renewed while it runs, released only
by its holder), so a job never runs twice at once: not from two triggers, not from two workers, and
not across a restart (a run killed with -9 frees the lock when its TTL ends).
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from dataclasses import asdict, dataclass, field
from enum import StrEnum

import redis.asyncio as aioredis

from common import constants as c


class Outcome(StrEnum):
    RUNNING = "running"
    OK = "ok"
    FAILED = "failed"
    SKIPPED = "skipped"  # another run held the lock
    MISSED = "missed"  # the scheduler could not start it within its misfire grace time


@dataclass
class JobResult:
    """What a job reports: counters by name (entries trimmed, files removed, ...) and bytes written."""

    counts: dict[str, int] = field(default_factory=dict)
    bytes: int = 0
    detail: dict[str, str] = field(default_factory=dict)


@dataclass
class RunRecord:
    """One run of one job as stored in Redis."""

    job: str
    trigger: str  # "schedule", or the command_id of a sys.control RUN_JOB
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    start_ts: float = field(default_factory=time.time)
    end_ts: float | None = None
    outcome: Outcome = Outcome.RUNNING
    counts: dict[str, int] = field(default_factory=dict)
    bytes: int = 0
    detail: dict[str, str] = field(default_factory=dict)
    error: str = ""

    def to_json(self) -> str:
        return json.dumps(asdict(self))


# Delete the lock only when it still holds our token (a lock that expired and was taken is not ours).
_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"
_RENEW = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end return 0"


class RunLock:
    """A job's lock: acquire() once, then renew every third of the TTL until release()."""

    def __init__(self, redis: aioredis.Redis, job: str, *, ttl_ms: int) -> None:
        self.redis, self.key, self.ttl_ms = redis, c.job_lock_key(job), ttl_ms
        self.token = uuid.uuid4().hex
        self._renewer: asyncio.Task | None = None

    async def acquire(self) -> bool:
        if not await self.redis.set(self.key, self.token, nx=True, px=self.ttl_ms):
            return False
        self._renewer = asyncio.create_task(self._renew(), name=f"lock:{self.key}")
        return True

    async def _renew(self) -> None:
        while True:
            await asyncio.sleep(self.ttl_ms / 3000)
            await self.redis.eval(_RENEW, 1, self.key, self.token, self.ttl_ms)

    async def release(self) -> None:
        if self._renewer is not None:
            self._renewer.cancel()
            await asyncio.gather(self._renewer, return_exceptions=True)
        await self.redis.eval(_RELEASE, 1, self.key, self.token)


class RunRecorder:
    """Writes run records and job summaries."""

    def __init__(self, redis: aioredis.Redis) -> None:
        self.redis = redis

    async def push(self, record: RunRecord) -> None:
        """Add a new run at the head of its job's history (bounded to JOB_HISTORY)."""
        key = c.job_runs_key(record.job)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.lpush(key, record.to_json())
            pipe.ltrim(key, 0, c.JOB_HISTORY - 1)
            await pipe.execute()

    async def finish(self, record: RunRecord) -> None:
        """Rewrite a run's record in place (another run's skip record may have been pushed since)."""
        key = c.job_runs_key(record.job)
        for i, raw in enumerate(await self.redis.lrange(key, 0, -1)):
            if json.loads(raw)["run_id"] == record.run_id:
                await self.redis.lset(key, i, record.to_json())
                return
        await self.push(record)  # trimmed away meanwhile: keep the outcome anyway

    async def summarise(self, job: str, *, schedule: str, next_run_ts: float | None,
                        ended: RunRecord | None = None) -> dict:
        """Update the job's summary; `ended` (a finished run) moves its counters."""
        raw = await self.redis.hget(c.WORKER_JOBS_KEY, job)
        summary = json.loads(raw) if raw else {"name": job, "runs": 0, "failures": 0, "failed_total": 0,
                                               "last_run": None, "last_success_ts": None}
        summary.update(schedule=schedule, next_run_ts=next_run_ts)
        if ended is not None:
            summary["runs"] += 1
            summary["last_run"] = json.loads(ended.to_json())
            if ended.outcome is Outcome.OK:
                summary["failures"] = 0
                summary["last_success_ts"] = ended.end_ts
            elif ended.outcome in (Outcome.FAILED, Outcome.MISSED):
                summary["failures"] += 1
                summary["failed_total"] += 1
        await self.redis.hset(c.WORKER_JOBS_KEY, job, json.dumps(summary))
        return summary


async def history(redis: aioredis.Redis, job: str, *, limit: int = c.JOB_HISTORY) -> list[dict]:
    """A job's last runs, newest first."""
    return [json.loads(raw) for raw in await redis.lrange(c.job_runs_key(job), 0, limit - 1)]


async def summaries(redis: aioredis.Redis) -> dict[str, dict]:
    """Every job's summary by name (only jobs a worker has registered)."""
    return {k.decode(): json.loads(v) for k, v in (await redis.hgetall(c.WORKER_JOBS_KEY)).items()}
