"""Run locks and run records against a real Redis."""

from __future__ import annotations

import asyncio

import pytest
import redis.asyncio as aioredis

from common import constants as c
from worker.runs import Outcome, RunLock, RunRecord, RunRecorder, history, summaries

pytestmark = pytest.mark.service


def test_a_lock_is_exclusive_renewed_while_held_and_released_only_by_its_holder(redis_url):
    async def scenario():
        r = aioredis.from_url(redis_url)
        first, second = RunLock(r, "x", ttl_ms=300), RunLock(r, "x", ttl_ms=300)
        assert await first.acquire()
        assert not await second.acquire()
        await asyncio.sleep(0.6)  # twice the TTL: only the holder's renewals keep it
        assert await r.get(c.job_lock_key("x")) == first.token.encode()
        await second.release()  # not the holder: no effect
        assert await r.exists(c.job_lock_key("x"))
        await first.release()
        assert await second.acquire()
        await second.release()
        await r.aclose()

    asyncio.run(scenario())


def test_history_is_bounded_and_a_finished_run_replaces_its_own_record(redis_url):
    async def scenario():
        r = aioredis.from_url(redis_url)
        rec = RunRecorder(r)
        running = RunRecord(job="x", trigger="schedule")
        await rec.push(running)
        for _ in range(c.JOB_HISTORY + 5):
            await rec.push(RunRecord(job="x", trigger="t", outcome=Outcome.SKIPPED))
        running.outcome, running.end_ts = Outcome.OK, running.start_ts + 1
        await rec.finish(running)  # trimmed out of the history meanwhile: kept at the head
        runs = await history(r, "x")
        assert len(runs) == c.JOB_HISTORY and runs[0]["run_id"] == running.run_id and runs[0]["outcome"] == "ok"
        failed = RunRecord(job="x", trigger="schedule", outcome=Outcome.FAILED, end_ts=1.0)
        await rec.summarise("x", schedule="* * * * *", next_run_ts=5.0, ended=failed)
        await rec.summarise("x", schedule="* * * * *", next_run_ts=6.0, ended=running)
        summary = (await summaries(r))["x"]
        assert summary["failures"] == 0 and summary["failed_total"] == 1 and summary["runs"] == 2
        assert summary["last_success_ts"] == running.end_ts and summary["next_run_ts"] == 6.0
        await r.aclose()

    asyncio.run(scenario())
