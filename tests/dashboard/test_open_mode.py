"""Open local mode (no ADMIN_PASSWORD_HASH): readable on loopback, nothing actionable, refused elsewhere."""

from __future__ import annotations

import subprocess

from tests.dashboard.conftest import ACTIONS, PAGES
from tests.support import VENV_BIN, service_env


def test_open_mode_reads_without_login_and_refuses_every_action(open_dashboard):
    anon = open_dashboard.client()
    assert len(anon.get("/api/health").json()["services"]) == 5
    for path in PAGES:
        page = anon.get(path)
        assert page.status_code == 200 and 'id="open-mode-banner"' in page.text, path
    assert "enter safe mode" not in anon.get("/safe-mode").text
    for path in ACTIONS:
        r = anon.post(path, headers={"X-CSRF-Token": "anything"})
        assert r.status_code == 403 and "configure an admin" in r.json()["detail"], path
    assert anon.post("/login", data={"username": "admin", "password": "x"}).status_code == 403


def _start(redis_url: str, **extra: str) -> subprocess.CompletedProcess:
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
