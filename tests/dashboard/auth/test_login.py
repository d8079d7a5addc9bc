"""dashboard.auth.login: twenty wrong passwords lock the user and the address out, raise CRIT alerts that
reach Telegram, and a dashboard restart does not lift the lockout."""

from __future__ import annotations

import pytest

from tests.dashboard.conftest import ADMIN, TOKEN, admin_env, start_dashboard, stop
from tests.support import wait_until

pytestmark = pytest.mark.service


def test_twenty_wrong_passwords_lock_out_alert_and_reach_telegram(dashboard, telegram, redis_url, tmp_path):
    watcher = dashboard.session()  # an admin already logged in sees the alert arrive
    for i in range(20):
        _, r = dashboard.login(password=f"wrong{i}")
        assert r.status_code == 401, (i, r.status_code)
    _, r = dashboard.login()  # the right password, during the lockout
    assert r.status_code == 429 and "scalper_session" not in r.headers.get("set-cookie", "")
    _, r = dashboard.login(user="someone-else", password="whatever")  # the address is locked too
    assert r.status_code == 429

    def lockout_alerts():
        return [a for a in watcher.get("/api/alerts").json()["alerts"] if a["key"].startswith("lockout:")]

    alerts = wait_until(
        lambda: len(lockout_alerts()) == 2 and lockout_alerts(), timeout=15, what="lockout alerts"
    )
    assert {a["key"] for a in alerts} == {f"lockout:user:{ADMIN}", "lockout:addr:127.0.0.1"}
    assert all(a["severity"] == "CRIT" for a in alerts)
    wait_until(
        lambda: sum("locked out" in t for t in telegram.texts()) == 2,
        timeout=15,
        what="the fake Telegram receiving both lockouts",
    )
    assert {m["chat_id"] for m in telegram.messages} == {"42"} and telegram.messages[0]["token"] == TOKEN
    stop(dashboard.proc)  # a restart (or a crash) does not lift the lockout: it is kept in Redis
    again = start_dashboard(redis_url, tmp_path, **admin_env(telegram))
    try:
        _, r = again.login()
        assert r.status_code == 429 and "too many wrong passwords: locked for" in r.text
    finally:
        stop(again.proc)
