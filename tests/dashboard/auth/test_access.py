"""dashboard.auth.access: open local mode (no ADMIN_PASSWORD_HASH) only on a loopback address, never with
LIVE trading: anything else is a config error at start (exit 78 naming the key)."""

from __future__ import annotations

import subprocess

import pytest

from tests.support import VENV_BIN, service_env

pytestmark = pytest.mark.service


def _start(redis_url: str, **extra: str) -> subprocess.CompletedProcess:
    """`scalper-dashboard` run to its end (here: its config error)."""
    env = service_env(redis_url, **extra)
    return subprocess.run(
        [str(VENV_BIN / "scalper-dashboard")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_open_mode_on_a_public_address_is_a_config_error(redis_url):
    r = _start(redis_url, ADMIN_PASSWORD_HASH="", WEB_HOST="0.0.0.0")
    assert r.returncode == 78 and "ADMIN_PASSWORD_HASH" in r.stderr


def test_live_without_an_admin_is_a_config_error(redis_url):
    r = _start(
        redis_url, ADMIN_PASSWORD_HASH="", EXECUTION_MODE="LIVE", BYBIT_API_KEY="k", BYBIT_API_SECRET="s"
    )
    assert r.returncode == 78 and "ADMIN_PASSWORD_HASH" in r.stderr
