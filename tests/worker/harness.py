"""The worker as tests drive it: a real process on a real Redis, commands over sys.control, seed state."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import time
import uuid
from pathlib import Path

import redis

from common import config
from common import constants as c
from common.bybit.enums import OrderStatus, OrderType, Side
from common.schemas import Command, ControlCommand, FillEvent, OrderEvent, OrderIntent, encode, now_ns
from tests.support import service_env, start_service, wait_until
from worker.scheduler import JobContext


def worker_env(redis_url: str, data_dir: Path, **extra: str) -> dict[str, str]:
    """A short lock TTL, so a run killed with -9 frees its job within seconds."""
    return service_env(redis_url, DATA_DIR=str(data_dir), WORKER_LOCK_TTL_S="3", **extra)


def start_worker(env: dict[str, str], log: Path, client: redis.Redis) -> subprocess.Popen:
    """Start scalper-worker and wait until it has registered its four jobs."""
    proc = start_service("worker", env, log)
    wait_until(lambda: proc.poll() is not None or client.hlen(c.WORKER_JOBS_KEY) == len(c.JOBS)
               and client.exists(c.heartbeat_key(c.WORKER)), timeout=30, what="the worker's jobs")
    assert proc.poll() is None, log.read_text()[-3000:]
    return proc


def stop(proc: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    if proc.poll() is None:
        proc.send_signal(sig)
        proc.wait(timeout=20)


def send_run_job(client: redis.Redis, job: str) -> str:
    """Publish RUN_JOB as scalperctl does; returns the command id (the run record's trigger)."""
    cmd = ControlCommand(command_id=uuid.uuid4().hex, command=Command.RUN_JOB, target=c.WORKER,
                         args={"job": job}, issued_by="test", ts_ns=now_ns())
    client.xadd(c.SYS_CONTROL, {c.PAYLOAD_FIELD: encode(cmd)})
    return cmd.command_id


def record_of(client: redis.Redis, job: str, trigger: str) -> dict | None:
    runs = [json.loads(raw) for raw in client.lrange(c.job_runs_key(job), 0, -1)]
    return next((r for r in runs if r["trigger"] == trigger), None)


def run_job(client: redis.Redis, job: str, *, timeout: float = 60) -> dict:
    """Ask the worker to run `job` and wait for the run to end; returns its record."""
    trigger = send_run_job(client, job)
    return wait_until(lambda: (rec := record_of(client, job, trigger)) and rec["outcome"] != "running" and rec,
                      timeout=timeout, what=f"a run of {job}")


def seed(client: redis.Redis, data_dir: Path) -> None:
    """State a backup must carry: users.db, DATA_DIR files and profiles, and the Redis keys the
    platform resumes from (hashes, a list, a sorted set, strings with and without TTL, a stream)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(data_dir / "users.db")
    db.execute("CREATE TABLE users (name TEXT PRIMARY KEY, hash TEXT)")
    db.executemany("INSERT INTO users VALUES (?, ?)", [(f"user{i}", "x" * 60) for i in range(200)])
    db.commit()
    db.close()
    (data_dir / "config_versions.jsonl").write_text('{"version": 1}\n')
    (data_dir / "alert_log.jsonl").write_text('{"key": "a"}\n' * 100)
    (data_dir / "profiles").mkdir(exist_ok=True)
    (data_dir / "profiles" / "balanced.toml").write_text('name = "balanced"\nversion = 3\n')
    client.hset(c.EXEC_ORDERS_KEY, mapping={f"s-{i}": json.dumps({"qty": i, "pad": "y" * 80}) for i in range(50)})
    client.hset(c.EXEC_POSITIONS_KEY, "BTCUSDT", '{"size": "0.1"}')
    client.hset(c.EXEC_INTENTS_KEY, "i-1", '{"status": "sent"}')
    client.zadd(c.EXEC_FILLS_KEY, {f"e-{i}": i for i in range(30)})
    client.set(c.EXEC_STATE_KEY, "NORMAL")
    client.lpush(c.EXEC_RECOVERY_KEY, *[json.dumps({"plan": i}) for i in range(5)])
    client.set(c.STRATEGY_RISK_KEY, '{"equity": 10000}')
    client.set(c.SAFE_MODE_KEY, "0", ex=3600)
    client.hset(c.SCENARIO_RUNS_KEY, "r1", '{"ok": true}')
    for i in range(500):
        client.xadd(c.EXEC_EVENTS, {c.PAYLOAD_FIELD: f"event-{i}".encode()})
    client.xgroup_create(c.EXEC_EVENTS, "strategy", id="0")
    client.xreadgroup("strategy", "strategy@host", {c.EXEC_EVENTS: ">"}, count=10)


def job_context(redis_url: str, data_dir: Path, **settings: object) -> JobContext:
    """What the runner hands a job, for tests that call a job's functions in this process."""
    return JobContext(settings=config.Settings(_env_file=None, redis_url=redis_url, data_dir=data_dir, **settings),
                      redis=redis.Redis.from_url(redis_url))


def _publish(client, stream, msg):
    client.xadd(stream, {c.PAYLOAD_FIELD: encode(msg)})


def seed_trading(client, *, trips: int = 12) -> None:
    """Round trips on BTCUSDT paying 10 bps of slippage each way (so every one loses), and a 6 bps spread."""
    now = time.time_ns()
    for i in range(trips):
        for leg, side in ((0, Side.BUY), (1, Side.SELL)):
            link = f"s-{i}-{leg}"
            ref = 100.0
            price = ref * (1.001 if side is Side.BUY else 0.999)
            _publish(client, c.EXEC_INTENTS, OrderIntent(intent_id=link, symbol="BTCUSDT", side=side.value, qty="1",
                                                        reference_price=str(ref), created_ts_ns=now))
            _publish(client, c.EXEC_EVENTS, OrderEvent(order_link_id=link, order_id=link, symbol="BTCUSDT",
                                                      side=side.value, status=OrderStatus.FILLED.value,
                                                      order_type=OrderType.MARKET.value, qty="1", ts_ns=now))
            _publish(client, c.EXEC_EVENTS, FillEvent(exec_id=link, order_link_id=link, order_id=link,
                                                     symbol="BTCUSDT", side=side.value, price=str(price), qty="1",
                                                     fee="0", is_maker=False, exchange_ts_ns=now, ts_ns=now))
    client.hset(c.MARKET_SUMMARY_KEY, "BTCUSDT", json.dumps({"spread_bps": 6.0}))
