"""dashboard.auth.login: a burst of concurrent guesses reaches bcrypt at most LOGIN_MAX_FAILURES times, wrong
passwords from one address lock that address (and the user from it) but not the user from another, a lock
survives a restart and is lifted by `scalperctl user unlock`, and lockouts raise one alert per window that
carries counts, never a typed name."""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import pytest

from tests.dashboard.conftest import ADMIN, CSRF_INPUT, PASSWORD, TOKEN, admin_env, start_dashboard, stop
from tests.support import scalperctl, wait_until

pytestmark = pytest.mark.service
LIMIT = 20  # LOGIN_MAX_FAILURES' default


def audited(tmp_path, outcome: str) -> list[dict]:
    """The login attempts of the audit log that ended with `outcome`."""
    lines = (tmp_path / "data" / "audit.jsonl").read_text().splitlines()
    return [e for e in map(json.loads, lines) if e["action"] == "login" and e["outcome"] == outcome]


async def burst(base: str, *, n: int, password: str) -> tuple[list[int], list[float]]:
    """`n` login attempts sent at once over `n` connections: their statuses and latencies (s)."""
    async with httpx.AsyncClient(base_url=base, timeout=60,
                                 limits=httpx.Limits(max_connections=n)) as c:
        form = await c.get("/login")
        token = CSRF_INPUT.search(form.text).group(1)

        async def one() -> tuple[int, float]:
            t0 = time.perf_counter()
            r = await c.post("/login", data={"username": ADMIN, "password": password, "csrf": token})
            return r.status_code, time.perf_counter() - t0

        results = await asyncio.gather(*(one() for _ in range(n)))
    return [s for s, _ in results], [t for _, t in results]


def test_a_burst_of_100_concurrent_guesses_reaches_bcrypt_at_most_the_limit(dashboard, tmp_path):
    statuses, _ = asyncio.run(burst(dashboard.base, n=100, password="wrong-guess"))
    checked = audited(tmp_path, "wrong password")  # each attempt that reached bcrypt
    assert len(checked) <= LIMIT and statuses.count(401) == len(checked), statuses
    assert statuses.count(429) == 100 - len(checked)
    _, r = dashboard.login()  # the right password from the locked address
    assert r.status_code == 429


def test_wrong_passwords_from_one_address_do_not_lock_the_user_out_from_another(dashboard, tmp_path):
    for i in range(LIMIT):
        _, r = dashboard.login(password=f"wrong{i}", address="127.0.0.2")
        assert r.status_code == 401, (i, r.status_code)
    _, r = dashboard.login(address="127.0.0.2")
    assert r.status_code == 429  # the attacker's address is locked, the right password too
    _, r = dashboard.login(user="someone-else", password="whatever", address="127.0.0.2")
    assert r.status_code == 429  # the address, whatever name it tries
    t0 = time.monotonic()
    _, r = dashboard.login(address="127.0.0.3")  # the admin from elsewhere: slowed at most, never refused
    assert r.status_code == 303 and time.monotonic() - t0 < 15


def test_a_lockout_survives_a_restart_and_scalperctl_user_unlock_lifts_it(dashboard, telegram, redis_url,
                                                                          tmp_path):
    for i in range(LIMIT):
        dashboard.login(password=f"wrong{i}")
    stop(dashboard.proc)  # a restart (or a crash) does not lift the lockout: it is kept in Redis
    again = start_dashboard(redis_url, tmp_path, **admin_env(telegram))
    try:
        _, r = again.login()
        assert r.status_code == 429 and "too many wrong passwords: locked for" in r.text
        done = scalperctl("user", "unlock", ADMIN, env=again.env)
        assert done.returncode == 0, done.stderr
        _, r = again.login()
        assert r.status_code == 303
    finally:
        stop(again.proc)


def test_lockouts_raise_one_alert_per_window_with_counts_and_no_typed_name(dashboard, telegram):
    watcher = dashboard.session(address="127.0.0.9")  # an admin already logged in sees the alert arrive
    typed = "<b>evil</b>-name-http://phish.example"
    for address in ("127.0.0.2", "127.0.0.3", "127.0.0.4"):
        for i in range(LIMIT):
            dashboard.login(user=typed, password=f"wrong{i}", address=address)

    def lockout_alerts():
        return [a for a in watcher.get("/api/alerts").json()["alerts"] if "lock" in a["key"]]

    wait_until(lambda: lockout_alerts(), timeout=15, what="a lockout alert")
    wait_until(lambda: telegram.texts(), timeout=15, what="the fake Telegram receiving it")
    time.sleep(1)  # a second alert, if one were coming, would be here by now
    alerts = lockout_alerts()
    assert len(alerts) == 1 and alerts[0]["severity"] == "CRIT", alerts
    assert len(telegram.texts()) == 1 and telegram.messages[0]["token"] == TOKEN
    shown = json.dumps(alerts) + " ".join(telegram.texts())
    assert "evil" not in shown and "phish" not in shown
    assert "1 lockout" in shown
