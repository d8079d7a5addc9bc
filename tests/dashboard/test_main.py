"""dashboard.main: the service as it runs; the Telegram token, the admin's password and hash and the session
key never reach its log, its audit log or its alert log; make run's modes keep those files private."""

from __future__ import annotations

from pathlib import Path

import pytest

from dashboard.alert_engine import ALERT_LOG_FILE
from dashboard.auth.audit import AUDIT_FILE
from tests.dashboard.conftest import ADMIN_HASH, PASSWORD, TOKEN, admin_env, start_dashboard, stop
from tests.support import wait_until

pytestmark = pytest.mark.service


def test_secrets_never_reach_a_log(redis_url, tmp_path, telegram):
    """The Telegram token, the admin's password and bcrypt hash and the session key stay out of the service
    log (at DEBUG), the audit log and the alert log, through logins good and bad, actions, a lockout
    alert sent to Telegram after a refused try."""
    d = start_dashboard(redis_url, tmp_path, LOG_LEVEL="DEBUG", LOGIN_MAX_FAILURES="2", **admin_env(telegram))
    try:
        cl = d.session()
        csrf = {"X-CSRF-Token": d.csrf(cl)}
        for path in ("/api/safe-mode/on", "/api/reconcile", "/api/safe-mode/off"):
            assert cl.post(path, headers=csrf).status_code == 200, path
        assert cl.post("/api/safe-mode/on").status_code == 403  # refused and audited
        order = {"side": "buy", "symbol": "BTCUSDT", "qty": "0.01", "tp": "90000", "sl": "50000"}
        assert cl.post("/api/orders", headers=csrf, data=order).status_code == 200
        assert cl.post("/api/orders", headers=csrf, data=order | {"qty": "0"}).status_code == 400
        telegram.fail_next = 1
        for password in (PASSWORD + "x", PASSWORD):  # the real password under a wrong user name too
            _, r = d.login(user="nobody", password=password)
            assert r.status_code == 401
        wait_until(lambda: sum("locked out" in t for t in telegram.texts()) == 1, timeout=20,
                   what="the lockout alert at the fake Telegram after its refused try")
        assert telegram.refused == 1
        [first] = [a for a in cl.get("/api/alerts").json()["alerts"] if a["key"] == "login-lockout"]
        assert cl.post(f"/api/alerts/{first['id']}/ack", headers=csrf).status_code == 200
        assert cl.post("/logout", headers=csrf).status_code == 303
    finally:
        stop(d.proc)
    data = Path(d.env["DATA_DIR"])
    logs = {
        "service log": (tmp_path / "dashboard.log").read_text(),
        "audit log": (data / AUDIT_FILE).read_text(),
        "alert log": (data / ALERT_LOG_FILE).read_text(),
    }
    assert '"telegram_failed"' in logs["service log"] and '"DEBUG"' in logs["service log"]
    assert '"wrong password"' in logs["audit log"] and '"manual order"' in logs["audit log"]
    assert "locked out" in logs["alert log"]
    session_key = (data / "session.key").read_text().strip()
    secrets = {"token": TOKEN, "token secret": TOKEN.split(":")[1], "password": PASSWORD, "hash": ADMIN_HASH,
               "session key": session_key}
    leaks = [(log, what) for log, text in logs.items() for what, s in secrets.items() if s in text]
    assert leaks == []
