"""`scalperctl backup` as an operator runs it: now (through the worker), list, verify (any flipped
byte fails it), restore (refused while services run, then equal to the backup)."""

from __future__ import annotations

import json
import sqlite3

import pytest

from common import constants as c
from tests.ctl.test_jobs import ctl
from tests.support import wait_until
from tests.worker.harness import seed, start_worker, stop, worker_env

pytestmark = pytest.mark.service


def flip_middle_byte(path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def test_now_list_verify_and_a_flipped_byte(redis_server, redis_url, tmp_path):
    client = redis_server.client()
    seed(client, tmp_path / "data")
    env = worker_env(redis_url, tmp_path / "data")
    proc = start_worker(env, tmp_path / "worker.log", client)
    try:
        made = ctl("backup", "now", env=env)
        assert made.returncode == 0, made.stderr
    finally:
        stop(proc)
    listed = json.loads(ctl("backup", "list", env=env).stdout)["backups"]
    assert len(listed) == 1
    backup = listed[0]
    assert backup["id"] == json.loads(made.stdout)["detail"]["id"] and backup["verified"] and backup["size"] > 0
    assert ctl("backup", "verify", backup["id"], env=env).returncode == 0

    victim = sorted(p for p in (tmp_path / "data" / "backups" / backup["id"]).iterdir())[0]
    flip_middle_byte(victim)
    r = ctl("backup", "verify", backup["id"], env=env)
    assert r.returncode == 1 and victim.name in r.stderr
    assert not json.loads(ctl("backup", "list", env=env).stdout)["backups"][0]["verified"]
    assert ctl("backup", "verify", "20200101T000000Z-0000", env=env).returncode == 4


def test_backup_now_without_a_worker_fails_clearly(redis_url, tmp_path):
    r = ctl("backup", "now", env=worker_env(redis_url, tmp_path))
    assert r.returncode == 3 and "the worker is not running" in r.stderr


def test_restore_is_refused_while_services_run_then_brings_the_backup_back(redis_server, redis_url, tmp_path):
    client = redis_server.client()
    data = tmp_path / "data"
    seed(client, data)
    env = worker_env(redis_url, data)
    proc = start_worker(env, tmp_path / "worker.log", client)
    try:
        backup_id = json.loads(ctl("backup", "now", env=env).stdout)["detail"]["id"]
        refused = ctl("backup", "restore", backup_id, env=env)
        assert refused.returncode == 5 and "worker" in refused.stderr and "stop" in refused.stderr
    finally:
        stop(proc)
    wait_until(lambda: not client.exists(c.heartbeat_key(c.WORKER)), timeout=10, what="the worker's heartbeat to end")
    client.delete(c.EXEC_POSITIONS_KEY)
    db = sqlite3.connect(data / "users.db")
    db.execute("DELETE FROM users")
    db.commit()
    db.close()

    r = ctl("backup", "restore", backup_id, env=env)
    assert r.returncode == 0, r.stderr
    assert client.hget(c.EXEC_POSITIONS_KEY, "BTCUSDT") == b'{"size": "0.1"}'
    db = sqlite3.connect(data / "users.db")
    assert db.execute("SELECT COUNT(*) FROM users").fetchone() == (200,)
    db.close()
