"""Retention against a real Redis and real files; under a publishing load through the worker process,
a lagging consumer group still receives every entry it has not acknowledged."""

from __future__ import annotations

import gzip
import json
import os
import threading
import time

import pytest

from common import constants as c
from tests.worker.harness import job_context, run_job, start_worker, stop, worker_env
from worker.retention import STREAM_AGE_SETTING, compress_rotated_logs, policies, prune_records, trim_stream

pytestmark = pytest.mark.service


def test_trimming_never_passes_an_entry_a_group_has_not_acknowledged(redis_server, redis_url):
    client = redis_server.client()
    ids = [client.xadd(c.EXEC_EVENTS, {"d": str(i)}, id=f"{1000 + i}-0") for i in range(100)]  # all ancient
    client.xgroup_create(c.EXEC_EVENTS, "slow", id="0")
    client.xreadgroup("slow", "slow@h", {c.EXEC_EVENTS: ">"}, count=40)
    client.xack(c.EXEC_EVENTS, "slow", *ids[:30])  # 30 acked, 10 pending, 60 undelivered
    removed, held = trim_stream(client, c.EXEC_EVENTS, max_age_s=3600, maxlen=1000)
    assert (removed, held) == (30, True)
    assert client.xrange(c.EXEC_EVENTS, count=1)[0][0] == ids[30]
    client.xack(c.EXEC_EVENTS, "slow", *ids[30:40])
    assert trim_stream(client, c.EXEC_EVENTS, max_age_s=3600, maxlen=1000) == (10, True)  # undelivered stay
    assert client.xlen(c.EXEC_EVENTS) == 60


def test_length_is_enforced_on_streams_no_group_holds(redis_server, redis_url):
    client = redis_server.client()
    for i in range(1500):
        client.xadd(c.SYS_DLQ, {"d": str(i)})
    assert trim_stream(client, c.SYS_DLQ, max_age_s=0, maxlen=1000) == (500, False)
    assert client.xlen(c.SYS_DLQ) == 1000 and client.xrange(c.SYS_DLQ, count=1)[0][1][b"d"] == b"500"


def test_under_load_streams_stay_within_policy_and_a_lagging_group_misses_nothing(
        redis_server, redis_url, tmp_path):
    client = redis_server.client()
    # exec.events kept 3.6 s: the retention runs below would take everything older unless a group needs it.
    proc = start_worker(worker_env(redis_url, tmp_path / "data", RETENTION_EXEC_H="0.001"),
                        tmp_path / "worker.log", client)
    client.xgroup_create(c.EXEC_EVENTS, "lagging", id="$", mkstream=True)
    published, received, done = [], [], threading.Event()

    def publish():
        pub = redis_server.client()
        while not done.is_set():
            published.append(pub.xadd(c.EXEC_EVENTS, {c.PAYLOAD_FIELD: b"x"}))
            time.sleep(0.002)

    def consume():  # slower than the publisher, so its backlog is what retention must respect
        cons = redis_server.client()
        while True:
            resp = cons.xreadgroup("lagging", "lagging@h", {c.EXEC_EVENTS: ">"}, count=20, block=100)
            entries = resp[0][1] if resp else []
            if not entries and done.is_set():
                return
            received.extend(entry_id for entry_id, _ in entries)
            if entries:
                cons.xack(c.EXEC_EVENTS, "lagging", *[e for e, _ in entries])
            time.sleep(0.05)

    threads = [threading.Thread(target=publish), threading.Thread(target=consume)]
    try:
        for t in threads:
            t.start()
        trimmed = 0
        for _ in range(4):
            time.sleep(1.5)
            run = run_job(client, c.JOB_RETENTION)
            assert run["outcome"] == "ok", run
            trimmed += run["counts"]["trimmed"]
        done.set()
        for t in threads:
            t.join(timeout=60)
        assert received == published  # every entry, in order, although retention ran four times meanwhile
        assert trimmed > 0  # and it did trim: what the group had acknowledged and was older than 3.6 s
        time.sleep(3.7)  # everything is now older than the policy and acknowledged
        assert run_job(client, c.JOB_RETENTION)["outcome"] == "ok"
        assert client.xlen(c.EXEC_EVENTS) == 0
    finally:
        done.set()
        stop(proc)


def test_rotated_logs_are_compressed_and_old_archives_deleted(tmp_path):
    (tmp_path / "alert_log.jsonl").write_text("live\n")
    (tmp_path / "alert_log.jsonl.1").write_text("one\n" * 1000)
    (tmp_path / "audit.jsonl.2").write_text("two\n")
    (tmp_path / "other.log.1").write_text("not ours\n")
    old = tmp_path / "audit.jsonl.20200101T000000Z-1.gz"
    old.write_bytes(gzip.compress(b"old"))
    os.utime(old, (0, 0))
    assert compress_rotated_logs(tmp_path, max_age_s=86_400) == (2, 1)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert "alert_log.jsonl" in names and "other.log.1" in names and not old.exists()
    archives = [p for p in tmp_path.glob("*.gz")]
    assert sorted(gzip.decompress(p.read_bytes()) for p in archives) == [b"one\n" * 1000, b"two\n"]
    assert not [n for n in names if n.startswith(".tmp-")]


def test_records_are_pruned_to_their_keep_counts_and_ages(redis_server, redis_url, tmp_path):
    client = redis_server.client()
    client.lpush(c.EXEC_RECOVERY_KEY, *[str(i) for i in range(10)])
    client.hset(c.SCENARIO_RUNS_KEY, mapping={f"2026120{i}-run": "{}" for i in range(1, 8)})
    now = int(time.time())
    client.hset(c.exec_quality_bucket_key("BTCUSDT", now - 3 * 3600), "n", 1)
    client.hset(c.exec_quality_bucket_key("BTCUSDT", now - 600), "n", 1)
    ctx = job_context(redis_url, tmp_path, retention_recovery_plans=3, retention_scenario_runs=2,
                      retention_quality_h=1.0)
    assert prune_records(client, ctx.settings) == {"recovery_plans_pruned": 7, "scenario_runs_pruned": 5,
                                                   "quality_buckets_pruned": 1, "profile_versions_pruned": 0}
    assert client.lrange(c.EXEC_RECOVERY_KEY, 0, -1) == [b"9", b"8", b"7"]  # newest first, kept
    assert sorted(client.hkeys(c.SCENARIO_RUNS_KEY)) == [b"20261206-run", b"20261207-run"]
    assert client.exists(c.exec_quality_bucket_key("BTCUSDT", now - 600))


def test_profile_versions_keep_the_newest_and_every_one_a_decision_or_a_rollback_needs(redis_server, redis_url,
                                                                                      tmp_path):
    """One proposal a day for years must not grow the hash for ever; what an admin can still act on stays:
    a pending proposal (approve, reject) and the newest applied version (what is in force, the rollback)."""
    client = redis_server.client()
    statuses = {1: "applied", 2: "rejected", 3: "pending", 4: "applied", 5: "rejected", 6: "applied",
                7: "rejected", 8: "rejected", 9: "pending"}
    key = c.profile_versions_key("balanced")
    client.hset(key, mapping={str(v): json.dumps({"version": v, "status": s}) for v, s in statuses.items()})
    other = c.profile_versions_key("aggressive")
    client.hset(other, mapping={"1": json.dumps({"version": 1, "status": "applied"})})
    ctx = job_context(redis_url, tmp_path, retention_profile_versions=2)
    assert prune_records(client, ctx.settings)["profile_versions_pruned"] == 5
    # the newest two (8, 9), the older pending one (3), the newest applied one (6)
    assert sorted(int(v) for v in client.hkeys(key)) == [3, 6, 8, 9]
    assert client.hkeys(other) == [b"1"]


def test_every_stream_has_a_policy_and_every_policy_names_its_key(tmp_path):
    assert set(STREAM_AGE_SETTING) == set(c.ALL_STREAMS)
    rows = policies(job_context("redis://127.0.0.1:1/0", tmp_path).settings)
    assert {s for row in rows for s in row["applies_to"]} == set(c.ALL_STREAMS)
    assert {"RETENTION_EXEC_H", "RETENTION_LOG_DAYS", "STREAM_MAXLEN"} <= {row["key"] for row in rows}
