"""Security through the real service: no session no data, CSRF, lockout, roles, secrets never shown."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import redis

from common import constants as c
from dashboard.alert_engine import ALERT_LOG_FILE
from dashboard.auth.audit import AUDIT_FILE
from tests.dashboard.conftest import (ACTIONS, ADMIN, ADMIN_HASH, PAGES, PASSWORD, TOKEN, admin_env, start_dashboard,
                                     stop)
from tests.support import VENV_BIN, wait_until

PUBLIC = {"/healthz", "/login"}


def _concrete(path: str) -> str:
    return path.replace("{alert_id}", "1").replace("{switch}", "on")


def _routes(d) -> list[tuple[str, str]]:
    """Every operation in the OpenAPI schema (read with a session), plus the pages and the schema itself."""
    schema = d.session().get("/api/openapi.json").json()
    ops = [(m.upper(), _concrete(p)) for p, item in schema["paths"].items() for m in item]
    return ops + [("GET", p) for p in PAGES] + [("GET", "/api/openapi.json"), ("POST", "/logout")]


def test_every_route_without_a_session_is_refused(dashboard):
    routes = _routes(dashboard)
    assert ("POST", "/api/safe-mode/on") in routes and ("GET", "/api/positions") in routes
    anon = dashboard.client()
    for method, path in routes:
        if path in PUBLIC:
            continue
        r = anon.request(method, path)
        if method == "GET" and not path.startswith("/api/"):
            assert r.status_code == 303 and r.headers["location"] == "/login", (method, path, r.status_code)
        else:
            assert r.status_code == 401, (method, path, r.status_code)
    for path in PUBLIC:
        assert anon.get(path).status_code == 200
    # a forged or expired cookie is no session either
    anon.cookies.set("scalper_session", "eyJ1IjoiYm9zcyIsImNzcmYiOiJ4In0.AAAAAA.forged")
    assert anon.get("/api/health").status_code == 401
    for path in ("/docs", "/openapi.json", "/redoc"):
        assert anon.get(path).status_code == 404


def test_login_form_sets_a_strict_httponly_cookie_and_security_headers(dashboard):
    c, r = dashboard.login()
    assert r.status_code == 303
    cookie = r.headers["set-cookie"]
    assert "scalper_session=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert "Max-Age=" in cookie and "Secure" not in cookie  # plain HTTP here; Secure when HTTPS
    page = c.get("/")
    assert page.status_code == 200 and ADMIN in page.text
    csp = page.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert page.headers["x-content-type-options"] == "nosniff"
    assert "<script>" not in page.text  # no inline scripts anywhere the CSP would have to allow
    # a login form posted without its CSRF token is refused
    assert (
        dashboard.client().post("/login", data={"username": ADMIN, "password": PASSWORD}).status_code == 403
    )


def test_actions_need_the_csrf_token_and_are_audited(dashboard, redis_url, tmp_path):
    cl = dashboard.session()
    assert cl.post("/api/safe-mode/on").status_code == 403
    assert cl.post("/api/safe-mode/on", headers={"X-CSRF-Token": "wrong"}).status_code == 403
    r = cl.post("/api/safe-mode/on", headers={"X-CSRF-Token": dashboard.csrf(cl)})
    assert r.status_code == 200, r.text
    rd = redis.Redis.from_url(redis_url)
    assert rd.get(c.SAFE_MODE_KEY) == b"1"
    assert len(rd.xrange(c.SYS_CONTROL)) == 1
    # the same through the page's form (field instead of header) comes back to the page
    r = cl.post("/api/safe-mode/off", data={"csrf": dashboard.csrf(cl)}, headers={"Accept": "text/html"})
    assert r.status_code == 303 and r.headers["location"] == "/safe-mode"
    assert rd.get(c.SAFE_MODE_KEY) == b"0"
    audit = [json.loads(line) for line in (tmp_path / "data" / "audit.jsonl").read_text().splitlines()]
    assert [(a["action"], a["outcome"]) for a in audit if a["action"] != "login"] == [
        ("POST /api/safe-mode/on", "refused"),
        ("POST /api/safe-mode/on", "refused"),
        ("safe_mode_on", "ok"),
        ("safe_mode_off", "ok"),
    ]
    assert all(a["user"] == ADMIN for a in audit)


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


def test_login_while_redis_is_down_is_a_503_not_a_crash(own_redis, tmp_path, telegram):
    d = start_dashboard(own_redis.url, tmp_path, **admin_env(telegram))
    try:
        own_redis.stop()
        _, r = d.login()
        assert r.status_code == 503 and "Redis unreachable" in r.json()["detail"], r.text
        assert d.proc.poll() is None
    finally:
        stop(d.proc)


def test_a_viewer_reads_but_cannot_act(dashboard, tmp_path):
    add = subprocess.run(
        [str(VENV_BIN / "scalperctl"), "user", "add", "watcher", "--role", "viewer"],
        input="viewer-Pa55word\n",
        env=dashboard.env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert add.returncode == 0, add.stderr
    v = dashboard.session("watcher", "viewer-Pa55word")
    for path in PAGES:
        assert v.get(path).status_code == 200, path
    assert "enter safe mode" not in v.get("/safe-mode").text
    token = dashboard.csrf(v)
    for path in ACTIONS:
        r = v.post(path, headers={"X-CSRF-Token": token})
        assert r.status_code == 403 and r.json()["detail"] == "viewers cannot act", path
    # a removed user's session stops working at once
    rm = subprocess.run(
        [str(VENV_BIN / "scalperctl"), "user", "remove", "watcher"],
        env=dashboard.env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert rm.returncode == 0, rm.stderr
    assert v.get("/api/health").status_code == 401


def test_secrets_never_reach_a_response(dashboard):
    c = dashboard.session()
    bodies = [c.get(p).text for p in PAGES]
    schema = c.get("/api/openapi.json").json()
    bodies += [
        c.get(p).text
        for p, item in schema["paths"].items()
        if "get" in item and "{" not in p and not p.endswith("/stream")
    ]
    session_key = (Path(dashboard.env["DATA_DIR"]) / "session.key").read_text().strip()
    secrets = [TOKEN, TOKEN.split(":")[1], ADMIN_HASH, session_key]
    for body in bodies:
        for s in secrets:
            assert s not in body
    assert "********" in c.get("/api/config").text


def test_secrets_never_reach_a_log(redis_url, tmp_path, telegram):
    """The Telegram token, the admin's password and bcrypt hash and the session key stay out of the service
    log (at DEBUG), the audit log and the alert log, through logins good and bad, actions, a lockout alert
    sent to Telegram after a refused try."""
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
        wait_until(lambda: sum("locked out" in t for t in telegram.texts()) == 2, timeout=20,
                   what="both lockout alerts at the fake Telegram after its refused try")
        assert telegram.refused == 1
        [first, *_] = [a for a in cl.get("/api/alerts").json()["alerts"] if a["key"].startswith("lockout:")]
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


def test_the_alert_filters_all_severities_and_refuse_a_bad_one(dashboard):
    """The filter form's "all" sends an empty severity: every alert, not a 422."""
    admin = dashboard.session()
    for path in ("/alerts?severity=&unacked=true", "/api/alerts?severity=", "/api/alerts?severity=CRIT"):
        assert admin.get(path).status_code == 200, path
    r = admin.get("/api/alerts?severity=LOUD")
    assert r.status_code == 422 and "severity" in r.text
