"""The one path every run takes, through the worker process: one run at a time (also against a lock
held elsewhere), a persistent schedule that notices a run missed while the worker was down."""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone

import pytest
from apscheduler.jobstores.redis import RedisJobStore
from redis.connection import parse_url

from common import constants as c
from common.schemas import Alert, Command, ControlCommand, decode, encode, now_ns
from tests.support import wait_until
from tests.worker.harness import record_of, run_job, seed, send_run_job, start_worker, stop, worker_env
from worker.scheduler import DAILY_GRACE_S

pytestmark = pytest.mark.service


def alerts(client) -> list[Alert]:
    return [a for _, f in client.xrange(c.SYS_ALERTS) if isinstance(a := decode(f[c.PAYLOAD_FIELD]), Alert)]


def test_a_job_started_twice_at_once_runs_once(redis_server, redis_url, tmp_path):
    client = redis_server.client()
    seed(client, tmp_path / "data")
    proc = start_worker(worker_env(redis_url, tmp_path / "data"), tmp_path / "worker.log", client)
    try:
        triggers = [send_run_job(client, c.JOB_BACKUP), send_run_job(client, c.JOB_BACKUP)]
        records = wait_until(lambda: all((r := record_of(client, c.JOB_BACKUP, t)) and r["outcome"] != "running"
                                         for t in triggers) and [record_of(client, c.JOB_BACKUP, t) for t in triggers],
                             timeout=60, what="both runs to end")
    finally:
        stop(proc)
    assert sorted(r["outcome"] for r in records) == ["ok", "skipped"]
    assert len(list((tmp_path / "data" / "backups").glob("2*Z-*[0-9a-f]"))) == 1


def test_a_lock_held_elsewhere_skips_the_run_until_it_expires(redis_server, redis_url, tmp_path):
    """The lock lives in Redis: a run of another (or a killed) worker holds the job until its TTL ends."""
    client = redis_server.client()
    proc = start_worker(worker_env(redis_url, tmp_path / "data"), tmp_path / "worker.log", client)
    try:
        client.set(c.job_lock_key(c.JOB_CLEANUP), "another-worker", px=2000)
        skipped = run_job(client, c.JOB_CLEANUP)
        assert skipped["outcome"] == "skipped" and skipped["error"] == "already running"
        wait_until(lambda: not client.exists(c.job_lock_key(c.JOB_CLEANUP)), timeout=5, what="the lock's TTL")
        assert run_job(client, c.JOB_CLEANUP)["outcome"] == "ok"
        assert not client.exists(c.job_lock_key(c.JOB_CLEANUP))  # released by its holder at the end
    finally:
        stop(proc)


def test_the_schedule_persists_and_a_run_missed_while_down_is_recorded_and_alerted(
        redis_server, redis_url, tmp_path):
    client = redis_server.client()
    # Yearly, so no later fire time falls between the missed one and now (coalescing would run that one).
    env = worker_env(redis_url, tmp_path / "data", WORKER_BACKUP_CRON="0 0 1 1 *")
    proc = start_worker(env, tmp_path / "worker.log", client)
    stop(proc)
    store = RedisJobStore(jobs_key=c.WORKER_SCHEDULER_JOBS_KEY, run_times_key=c.WORKER_SCHEDULER_TIMES_KEY,
                          **parse_url(redis_url))
    store.start(None, "default")
    assert {job.id for job in store.get_all_jobs()} == set(c.JOBS)
    job = store.lookup_job(c.JOB_BACKUP)
    assert job.coalesce and job.max_instances == 1 and job.misfire_grace_time == DAILY_GRACE_S
    # The worker was down when the backup fell due, longer ago than its grace time.
    due = datetime.now(timezone.utc) - timedelta(seconds=DAILY_GRACE_S + 600)
    job.next_run_time = due
    store.update_job(job)

    proc = start_worker(env, tmp_path / "worker.log", client)
    try:
        missed = wait_until(lambda: [json.loads(r) for r in client.lrange(c.job_runs_key(c.JOB_BACKUP), 0, -1)],
                            timeout=15, what="the missed run's record")
        assert missed[0]["outcome"] == "missed" and missed[0]["start_ts"] == pytest.approx(due.timestamp(), abs=1)
        # The record is pushed first, then the alert, then the summary: wait for the last of them.
        wait_until(lambda: any(a.key == "job:backup" and "missed" in a.title for a in alerts(client)),
                   timeout=10, what="the missed run's alert")
        summary = wait_until(lambda: (s := json.loads(client.hget(c.WORKER_JOBS_KEY, c.JOB_BACKUP)))["failures"] and s,
                             timeout=10, what="the summary counting the missed run")
        assert summary["failures"] == 1 and summary["next_run_ts"] > time.time()
    finally:
        stop(proc)
        store.shutdown()


def test_a_changed_schedule_takes_effect_on_a_config_reload(redis_server, redis_url, tmp_path):
    client = redis_server.client()
    env_file = tmp_path / "scalper.env"
    env_file.write_text("WORKER_CLEANUP_CRON=37 * * * *\n")
    env = worker_env(redis_url, tmp_path / "data", SCALPER_ENV_FILE=str(env_file))
    proc = start_worker(env, tmp_path / "worker.log", client)
    try:
        env_file.write_text("WORKER_CLEANUP_CRON=0 4 * * 0\n")
        client.xadd(c.SYS_CONTROL, {c.PAYLOAD_FIELD: encode(ControlCommand(
            command_id="r1", command=Command.RELOAD_CONFIG, issued_by="test", ts_ns=now_ns()))})
        summary = wait_until(lambda: (s := json.loads(client.hget(c.WORKER_JOBS_KEY, c.JOB_CLEANUP)))
                             ["schedule"] == "0 4 * * 0" and s, timeout=15, what="the new schedule")
        next_run = datetime.fromtimestamp(summary["next_run_ts"], timezone.utc)
        assert (next_run.weekday(), next_run.hour, next_run.minute) == (6, 4, 0)  # Sunday 04:00 UTC
    finally:
        stop(proc)
