"""Real parts for tests: a redis-server on a free port, and service processes started as users do."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
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


class RedisServer:
    """A private redis-server process; `aof=True` persists every write (appendfsync always)."""

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
        args = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                "--dir", str(self.data_dir), "--logfile", str(self.data_dir / "redis.log")]
        if self.aof:
            args += ["--appendonly", "yes", "--appendfsync", "always"]
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
