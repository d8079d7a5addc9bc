"""`scalperctl jobs` as an operator runs it, against a real Redis and the worker as a real process."""

from __future__ import annotations

import json
import subprocess

import pytest

from common import constants as c
from tests.support import VENV_BIN
from tests.worker.harness import start_worker, stop, worker_env

pytestmark = pytest.mark.service

CTL = str(VENV_BIN / "scalperctl")


def ctl(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([CTL, *args], env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture
def worker(redis_server, redis_url, tmp_path):
    env = worker_env(redis_url, tmp_path / "data")
    proc = start_worker(env, tmp_path / "worker.log", redis_server.client())
    yield env
    stop(proc)


def test_list_names_the_four_jobs_with_schedule_and_next_run(worker):
    r = ctl("jobs", "list", "--json", env=worker)
    assert r.returncode == 0, r.stderr
    rows = {row["name"]: row for row in json.loads(r.stdout)["jobs"]}
    assert set(rows) == {"retention", "profile", "backup", "cleanup"}
    assert rows["backup"]["schedule"] == "15 3 * * *" and rows["backup"]["next_run"]
    assert all(row["registered"] and row["failures"] == 0 for row in rows.values())
    table = ctl("jobs", "list", env=worker).stdout
    assert all(name in table for name in c.JOBS)


def test_run_goes_through_the_worker_and_history_shows_it(worker):
    r = ctl("jobs", "run", "cleanup", env=worker)
    assert r.returncode == 0, r.stderr
    record = json.loads(r.stdout)
    assert record["outcome"] == "ok" and record["trigger"] != "schedule" and "consumers_removed" in record["counts"]
    runs = json.loads(ctl("jobs", "history", "cleanup", env=worker).stdout)["runs"]
    assert runs[0]["run_id"] == record["run_id"]
    row = next(row for row in json.loads(ctl("jobs", "list", "--json", env=worker).stdout)["jobs"]
               if row["name"] == "cleanup")
    assert row["last_outcome"] == "ok" and row["runs"] == 1


def test_run_without_a_worker_says_so_and_fails(redis_url, tmp_path):
    r = ctl("jobs", "run", "retention", env=worker_env(redis_url, tmp_path))
    assert r.returncode == 3 and "the worker is not running" in r.stderr


def test_policies_lists_every_retention_key(redis_url, tmp_path):
    r = ctl("jobs", "policies", env=worker_env(redis_url, tmp_path, RETENTION_MARKET_H="2"))
    assert r.returncode == 0, r.stderr
    rows = {row["key"]: row for row in json.loads(r.stdout)["policies"]}
    assert rows["RETENTION_MARKET_H"]["value"] == 2.0
    assert rows["RETENTION_MARKET_H"]["applies_to"] == [c.MARKET_TRADES, c.MARKET_BOOK]
