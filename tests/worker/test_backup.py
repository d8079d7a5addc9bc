"""The backup job through the worker process: a backup restores to its source, a kill -9 mid-backup
leaves the previous one intact and the next run succeeds, rotation keeps what it promises."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import urllib.request

import pytest

from common import constants as c
from common.schemas import Alert, Severity, decode
from tests.support import wait_until
from tests.worker.harness import job_context, run_job, seed, send_run_job, start_worker, stop, worker_env
from worker import archive, redis_state
from worker.backup import keep_ids
from worker.restore import restore_backup
from worker.verify import verify_backup

pytestmark = pytest.mark.service


def platform_state(client, data_dir):
    """What a restore must bring back: the platform's keys (not the worker's own records, which the
    run itself updates), users.db's rows and the state files."""
    keys = {name: digest for name, _, _, digest in redis_state.capture(client) if b":worker:" not in name}
    db = sqlite3.connect(data_dir / "users.db")
    rows = db.execute("SELECT * FROM users ORDER BY name").fetchall()
    db.close()
    files = {p.name: p.read_bytes() for p in (data_dir / "config_versions.jsonl", data_dir / "alert_log.jsonl",
                                              data_dir / "profiles" / "balanced.toml")}
    return keys, rows, files


def metrics_port(log):
    line = next(ln for ln in log.read_text().splitlines() if '"event":"starting"' in ln)
    return json.loads(line)["metrics_port"]


def metric(body: str, name: str) -> float:
    """The value of an unlabelled metric in a /metrics body."""
    return float(next(line for line in body.splitlines() if line.startswith(f"{name} ")).split()[1])


def test_a_backup_restores_equal_to_its_source(redis_server, redis_url, tmp_path):
    client = redis_server.client()
    data = tmp_path / "data"
    seed(client, data)
    copy_dir = tmp_path / "offsite"
    log = tmp_path / "worker.log"
    proc = start_worker(worker_env(redis_url, data, BACKUP_COPY_DIR=str(copy_dir)), log, client)
    try:
        before = platform_state(client, data)
        record = run_job(client, c.JOB_BACKUP)
        assert record["outcome"] == "ok", record
        assert record["counts"]["redis_keys"] >= 10 and record["bytes"] > 0
        path = data / "backups" / record["detail"]["id"]
        assert record["detail"]["path"] == str(path.resolve())
        assert archive.verified(path.parent, path.name)["redis_keys"] == record["counts"]["redis_keys"]
        assert archive.check(copy_dir / path.name)["parts"] == archive.check(path)["parts"]
        body = urllib.request.urlopen(f"http://127.0.0.1:{metrics_port(log)}/metrics", timeout=5).read().decode()
        assert 'scalper_worker_job_runs_total{job="backup",outcome="ok"} 1.0' in body
        assert f"scalper_worker_backup_bytes {float(record['bytes'])}" in body
        verified_ts = archive.verified(path.parent, path.name)["ts"]
        assert metric(body, "scalper_worker_backup_last_verified_timestamp_seconds") == verified_ts
    finally:
        stop(proc)

    # Everything changes after the backup: keys deleted, changed and added, the database and files edited.
    client.delete(c.EXEC_ORDERS_KEY, c.EXEC_EVENTS)
    client.set(c.EXEC_STATE_KEY, "SAFE")
    client.hset(c.exec_quality_key("BTCUSDT"), "n", 1)
    db = sqlite3.connect(data / "users.db")
    db.execute("DELETE FROM users WHERE name < 'user5'")
    db.commit()
    db.close()
    (data / "config_versions.jsonl").write_text("changed\n")
    assert platform_state(client, data) != before
    (data / "profiles" / "balanced.toml").unlink()

    restore_backup(path, settings=job_context(redis_url, data).settings, r=client)
    assert platform_state(client, data) == before
    assert client.ttl(c.SAFE_MODE_KEY) > 0  # TTLs come back too
    assert client.xinfo_groups(c.EXEC_EVENTS)[0]["pending"] == 10  # and a stream's consumer groups


def test_kill_9_during_a_backup_leaves_the_previous_one_intact_and_the_next_run_succeeds(
        redis_server, redis_url, tmp_path):
    client = redis_server.client()
    data = tmp_path / "data"
    seed(client, data)
    env = worker_env(redis_url, data)
    log = tmp_path / "worker.log"
    proc = start_worker(env, log, client)
    first = run_job(client, c.JOB_BACKUP)
    assert first["outcome"] == "ok", first
    root = data / "backups"
    # A state file that takes seconds to compress (random bytes do not shrink), so the kill lands mid-write.
    (data / "big.bin").write_bytes(os.urandom(96 << 20))
    send_run_job(client, c.JOB_BACKUP)
    wait_until(lambda: any(p.name.startswith(archive.TMP_PREFIX) for p in root.iterdir()), timeout=30,
               what="a backup being written")
    stop(proc, signal.SIGKILL)

    assert archive.list_ids(root) == [first["detail"]["id"]]
    verify_backup(root / first["detail"]["id"])

    (data / "big.bin").unlink()
    proc = start_worker(env, log, client)
    try:
        wait_until(lambda: not client.exists(c.job_lock_key(c.JOB_BACKUP)), timeout=10,
                   what="the killed run's lock to expire")
        second = run_job(client, c.JOB_BACKUP)
        assert second["outcome"] == "ok", second
        # Both are of today: rotation keeps the newest of the day, and only the finished ones count.
        assert archive.list_ids(root) == [second["detail"]["id"]] and second["counts"]["rotated"] == 1
        assert not [p for p in root.iterdir() if p.name.startswith(archive.TMP_PREFIX)]
    finally:
        stop(proc)


def test_a_failed_backup_is_recorded_and_raises_a_crit_alert(redis_server, redis_url, tmp_path):
    client = redis_server.client()
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    proc = start_worker(worker_env(redis_url, tmp_path / "data", BACKUP_DIR=str(blocker / "backups")),
                        tmp_path / "worker.log", client)
    url = f"http://127.0.0.1:{metrics_port(tmp_path / 'worker.log')}/metrics"
    try:
        before = urllib.request.urlopen(url, timeout=5).read().decode()
        record = run_job(client, c.JOB_BACKUP)
        body = urllib.request.urlopen(url, timeout=5).read().decode()
    finally:
        stop(proc)
    assert record["outcome"] == "failed" and "not-a-dir" in record["error"]
    # what Prometheus alerts on (ScalperJobFailed: an increase, so the counter is exported at 0 from the
    # start), and no verified backup is claimed
    assert 'scalper_worker_job_runs_total{job="backup",outcome="failed"} 0.0' in before
    assert 'scalper_worker_job_runs_total{job="backup",outcome="failed"} 1.0' in body
    assert metric(body, "scalper_worker_backup_last_verified_timestamp_seconds") == 0
    alerts = [decode(f[c.PAYLOAD_FIELD]) for _, f in client.xrange(c.SYS_ALERTS)]
    assert any(isinstance(a, Alert) and a.key == "job:backup" and a.severity is Severity.CRIT for a in alerts)
    assert json.loads(client.hget(c.WORKER_JOBS_KEY, c.JOB_BACKUP))["failures"] == 1


def test_rotation_keeps_the_newest_per_day_week_and_month():
    # Two backups a day over 100 days, oldest first.
    ids = [f"2026{m:02d}{d:02d}T{h:02d}0000Z-0000" for m in range(1, 5) for d in range(1, 26) for h in (1, 13)]
    keep = keep_ids(ids, daily=3, weekly=2, monthly=2)
    assert ids[-1] in keep
    assert {i for i in keep if i.startswith("202604")} >= {"20260425T130000Z-0000", "20260424T130000Z-0000",
                                                           "20260423T130000Z-0000"}
    assert "20260331T130000Z-0000" not in keep and "20260325T130000Z-0000" in keep  # March's newest
    assert all(i.endswith("T130000Z-0000") for i in keep)  # never the older one of a day
    assert len(keep) <= 3 + 2 + 2
