"""The platform as processes for the benches: redis-server, the exchange simulator and chosen services.

`Platform` starts them on free ports in a temporary directory, waits until the execution service is
NORMAL (when it runs) and stops everything, newest first. The simulator runs without rate limits
(we measure our path, not Bybit's 10/s) and, unless asked otherwise, without its artificial reply
delay, so a bench compares our path against the same simulator a bare client talks to.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import msgspec
import redis

from common import constants as c
from tests.support import RedisServer, free_port, wait_until

KEY, SECRET = "benchkey0123456789", "benchsecret0123456789abcdef"
BIN = Path(sys.executable).parent


class Platform:
    """Processes of one bench run; use as a context manager."""

    def __init__(self, tmp: Path, *, symbols: list[str], tick_ms: int = 100, latency_ms: float = 0.0,
                 env: dict[str, str] | None = None) -> None:
        self.tmp, self.symbols, self.tick_ms, self.latency_ms = tmp, symbols, tick_ms, latency_ms
        self.extra_env = env or {}
        self.redis = RedisServer(tmp / "redis")
        self.procs: dict[str, subprocess.Popen] = {}
        self.urls: dict[str, str] = {}

    def __enter__(self) -> Platform:
        self.redis.start()
        out = self.tmp / "sim.out"
        self.procs["sim"] = subprocess.Popen(
            [str(BIN / "scalper-exchange-sim"), "--port", "0", "--api-key", KEY, "--api-secret", SECRET,
             "--symbols", ",".join(self.symbols), "--seed", "7", "--balance", "100000000",
             "--rate-limit-scale", "0", "--tick-ms", str(self.tick_ms), "--latency-ms", str(self.latency_ms),
             "--jitter-ms", "0"],
            stdout=out.open("wb"), stderr=subprocess.STDOUT)
        wait_until(lambda: out.read_text().endswith("\n"), timeout=30, what="the simulator's URL line")
        self.urls = json.loads(out.read_text().splitlines()[0])
        return self

    def __exit__(self, *exc: object) -> None:
        for proc in reversed(list(self.procs.values())):
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        self.redis.stop()

    @property
    def redis_url(self) -> str:
        return self.redis.url

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k != "NOTIFY_SOCKET"}
        env.update({f"{s.upper()}_METRICS_PORT": "-1" for s in ("market", "strategy", "execution")})
        env.update(REDIS_URL=self.redis_url, SCALPER_ENV_FILE="/nonexistent/.env",
                   DATA_DIR=str(self.tmp / "data"),
                   EXECUTION_MODE="SIM", SYMBOLS=",".join(self.symbols), BYBIT_REST_URL=self.urls["rest"],
                   BYBIT_WS_PUBLIC_URL=self.urls["ws_public"], BYBIT_WS_PRIVATE_URL=self.urls["ws_private"],
                   BYBIT_API_KEY=KEY, BYBIT_API_SECRET=SECRET, LOG_LEVEL="WARNING")
        env.update(self.extra_env)
        return env

    def start(self, *services: str) -> None:
        """Start `scalper-<service>` for each; with the execution service, wait until it is NORMAL."""
        env = self.env()
        for name in services:
            log = (self.tmp / f"{name}.log").open("wb")
            self.procs[name] = subprocess.Popen([str(BIN / f"scalper-{name}")], env=env, stdout=log,
                                                stderr=subprocess.STDOUT)
        if "execution" in services:
            client = self.redis.client()
            wait_until(lambda: _normal(client), timeout=60, what="the execution service NORMAL")
            client.close()

    def pid(self, name: str) -> int:
        return self.procs[name].pid


def _normal(client: redis.Redis) -> bool:
    raw = client.get(c.EXEC_STATE_KEY)
    return bool(raw) and msgspec.json.decode(raw)["state"] == "NORMAL"
