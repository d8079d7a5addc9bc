"""The strategy service as a real process on the suite's real Redis."""

from __future__ import annotations

import signal
import subprocess

import pytest

from tests.strategy_service.live import groups_ready
from tests.support import service_env, start_service, wait_until


@pytest.fixture
def strategy(redis_url, redis_server, tmp_path):
    """Start (and restart) the service; yields (start, redis client); stops it at the end."""
    procs = []
    env = service_env(redis_url, DATA_DIR=str(tmp_path))
    r = redis_server.client()

    def start():
        procs.append(start_service("strategy", env, tmp_path / "strategy.log"))
        wait_until(lambda: groups_ready(r), timeout=30, interval=0.1, what="strategy consumer groups")
        return procs[-1]

    yield start, r
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(timeout=10)
    r.close()
