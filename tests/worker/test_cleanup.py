"""Cleanup against a real Redis and real files: dead consumers go (their entries dead-lettered first),
live ones stay; temporaries and old releases go, the current release never."""

from __future__ import annotations

import os
import socket
import time

import pytest

from common import constants as c
from common.schemas import DeadLetter, decode
from tests.worker.harness import job_context
from worker.cleanup import CleanupJob, remove_dead_consumers, remove_old_releases, remove_tmp_files

pytestmark = pytest.mark.service

HOST = socket.gethostname()


def test_a_dead_consumer_leaves_its_group_after_its_entries_are_dead_lettered(redis_server, redis_url):
    client = redis_server.client()
    ids = [client.xadd(c.EXEC_EVENTS, {c.PAYLOAD_FIELD: f"e{i}".encode()}) for i in range(7)]
    client.xgroup_create(c.EXEC_EVENTS, "strategy", id="0")
    client.xreadgroup("strategy", f"strategy@{HOST}", {c.EXEC_EVENTS: ">"}, count=2)  # live: heartbeat below
    client.xreadgroup("strategy", "strategy@old-host", {c.EXEC_EVENTS: ">"}, count=3)  # a host gone
    client.xreadgroup("strategy", f"market@{HOST}", {c.EXEC_EVENTS: ">"}, count=2)  # no heartbeat: dead
    client.set(c.heartbeat_key(c.STRATEGY), b"hb", px=5000)
    time.sleep(0.05)
    assert remove_dead_consumers(client, idle_s=0.01, host=HOST) == (2, 5)

    left = {cons["name"] for cons in client.xinfo_consumers(c.EXEC_EVENTS, "strategy")}
    assert left == {f"strategy@{HOST}".encode()}
    assert client.xpending(c.EXEC_EVENTS, "strategy")["pending"] == 2  # only the live consumer's
    letters = [decode(f[c.PAYLOAD_FIELD]) for _, f in client.xrange(c.SYS_DLQ)]
    assert sorted(letter.raw for letter in letters if isinstance(letter, DeadLetter)) == [
        f"e{i}".encode() for i in range(2, 7)]
    assert {letter.entry_id for letter in letters} == {i.decode() for i in ids[2:]}
    assert client.xlen(c.SYS_ALERTS) == 2


def test_recently_active_consumers_stay_whatever_their_heartbeat(redis_server, redis_url):
    client = redis_server.client()
    client.xadd(c.EXEC_EVENTS, {c.PAYLOAD_FIELD: b"x"})
    client.xgroup_create(c.EXEC_EVENTS, "g", id="0")
    client.xreadgroup("g", "market@gone", {c.EXEC_EVENTS: ">"}, count=1)
    assert remove_dead_consumers(client, idle_s=3600, host=HOST) == (0, 0)


def test_temporaries_older_than_the_limit_go(tmp_path):
    old, new = time.time() - 7200, time.time()
    for name, ts in (("a.tmp", old), ("b.tmp", new), ("keep.json", old)):
        (tmp_path / name).write_text("x")
        os.utime(tmp_path / name, (ts, ts))
    stale_dir = tmp_path / "backups" / ".tmp-20260101T000000Z-abcd"
    stale_dir.mkdir(parents=True)
    (stale_dir / "part").write_text("x")
    os.utime(stale_dir, (old, old))
    assert remove_tmp_files(tmp_path, older_than_s=3600) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.tmp", "backups", "keep.json"]
    assert not stale_dir.exists()


def test_old_releases_go_but_never_the_current_one(tmp_path):
    for i in range(6):
        (tmp_path / f"r{i}").mkdir()
        os.utime(tmp_path / f"r{i}", (1000 + i, 1000 + i))
    (tmp_path / "current").symlink_to(tmp_path / "r0")
    assert remove_old_releases(tmp_path, keep=2) == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["current", "r0", "r4", "r5"]


def test_the_job_skips_releases_when_none_are_configured(redis_server, redis_url, tmp_path):
    result = CleanupJob().run(job_context(redis_url, tmp_path))
    assert result.counts == {"consumers_removed": 0, "entries_dead_lettered": 0, "tmp_files_removed": 0,
                             "releases_removed": 0}
