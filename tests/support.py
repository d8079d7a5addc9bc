"""Real parts for tests: a redis-server on a free port, and service processes started as users do."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import asyncio
import inspect
from dataclasses import dataclass
from pathlib import Path

import redis

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
SERVICES = ("market", "strategy", "execution", "dashboard", "worker")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, *, timeout: float, interval: float = 0.05, what: str = "condition"):
    """Poll `predicate` until it returns a truthy value; fail the test with `what` on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


async def wait_until_async(predicate, *, timeout: float, interval: float = 0.05, what: str = "condition"):
    """`wait_until` for async tests: `predicate` may be a plain or an async callable."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(interval)


MAKE_RUN_REDIS_CONF = ROOT / "deploy" / "local" / "redis.conf"


class RedisServer:
    """A private redis-server process; `aof=True` persists as make run's Redis does (its redis.conf:
    every write in the append-only file before its reply)."""

    def __init__(self, data_dir: Path, *, aof: bool = False, port: int | None = None) -> None:
        if shutil.which("redis-server") is None:
            raise RuntimeError("redis-server is not installed (apt-get install redis-server)")
        self.data_dir, self.aof = data_dir, aof
        self.port = port or free_port()
        self.proc: subprocess.Popen | None = None
        data_dir.mkdir(parents=True, exist_ok=True)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        conf = [str(MAKE_RUN_REDIS_CONF)] if self.aof else []
        args = ["redis-server", *conf, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                "--dir", str(self.data_dir), "--logfile", str(self.data_dir / "redis.log")]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = self.client()
        wait_until(lambda: _pings(client), timeout=10, what=f"redis-server on {self.port}")
        client.close()
        return self

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=10)
        self.proc = None

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, socket_timeout=5)


def _pings(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.ConnectionError:
        return False


def service_env(redis_url: str, **extra: str) -> dict[str, str]:
    """Environment for a service under test: its own Redis, free ports, no env file."""
    env = {k: v for k, v in os.environ.items() if k != "NOTIFY_SOCKET"}
    env.update({f"{s.upper()}_METRICS_PORT": "0" for s in SERVICES})
    env.update(REDIS_URL=redis_url, SCALPER_ENV_FILE="/nonexistent/.env", WEB_PORT=str(free_port()),
               PYTHONUNBUFFERED="1")
    env.update(extra)
    return env


def start_service(name: str, env: dict[str, str], log_path: Path) -> subprocess.Popen:
    """Start a service by its console script, as supervisor and systemd do."""
    log = open(log_path, "ab")
    return subprocess.Popen([str(VENV_BIN / f"scalper-{name}")], env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)


def scalperctl(*args: str, env: dict[str, str], stdin: str | None = None) -> subprocess.CompletedProcess:
    """`scalperctl ARGS` as an operator runs it: the console script, text in and out."""
    return subprocess.run([str(VENV_BIN / "scalperctl"), *args], env=env, input=stdin, capture_output=True,
                          text=True, timeout=60, check=False)


# --- the simulated exchange as a real process on a real socket, as users start it ---------------
KEY, SECRET = "testkey0123456789", "testsecret0123456789abcdef"


@dataclass
class SimProc:
    proc: subprocess.Popen
    rest: str
    ws_public: str
    ws_private: str
    key: str = KEY
    secret: str = SECRET

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=10)


def start_sim(*extra: str, tmp_path) -> SimProc:
    """`scalper-exchange-sim --port 0 ...`; waits for its JSON line of URLs."""
    out = tmp_path / "sim.out"
    args = [str(VENV_BIN / "scalper-exchange-sim"), "--port", "0", "--api-key", KEY, "--api-secret", SECRET,
            "--symbols", "BTCUSDT,ETHUSDT", "--seed", "7", "--balance", "100000", *extra]
    proc = subprocess.Popen(args, stdout=open(out, "wb"), stderr=subprocess.STDOUT, start_new_session=True)

    def line():
        if proc.poll() is not None:
            raise AssertionError(f"simulator exited: {out.read_text()[-2000:]}")
        text = out.read_text()
        return text.splitlines()[0] if text.endswith("\n") else None

    urls = json.loads(wait_until(line, timeout=30, what="the simulator's URL line"))
    return SimProc(proc=proc, rest=urls["rest"], ws_public=urls["ws_public"], ws_private=urls["ws_private"])
