"""dashboard.routes.sessions (with dashboard.auth.session_store): sessions live in Redis behind a random
cookie id; logging out, a password or role change end the user's sessions on every browser at once; the
sessions page lists who is logged in from where, and an admin revokes a session or lifts a lockout."""

from __future__ import annotations

import hashlib

import pytest
import redis

from common import constants as c
from tests.dashboard.conftest import ADMIN, VIEWER, VIEWER_PASSWORD
from tests.support import scalperctl

pytestmark = pytest.mark.service


def test_the_cookie_is_a_random_id_whose_session_lives_in_redis(dashboard, redis_url):
    cl = dashboard.session()
    cookie = cl.cookies["scalper_session"]
    assert ADMIN not in cookie and "." not in cookie  # nothing signed or readable in it
    held = redis.Redis.from_url(redis_url).hgetall(c.session_key(hashlib.sha256(cookie.encode()).hexdigest()))
    assert held[b"user"] == ADMIN.encode() and held[b"client"] == b"127.0.0.1"


def test_logout_ends_every_session_of_the_user_everywhere(dashboard):
    here, there = dashboard.session(), dashboard.session(address="127.0.0.2")
    assert there.get("/api/health").status_code == 200
    assert here.post("/logout", data={"csrf": dashboard.csrf(here)}).status_code == 303
    assert there.get("/api/health").status_code == 401
    assert here.get("/api/health").status_code == 401


def test_a_password_or_role_change_ends_the_users_sessions(dashboard):
    v = dashboard.viewer()
    done = scalperctl("user", "passwd", VIEWER, env=dashboard.env, stdin=f"{VIEWER_PASSWORD}\n")
    assert done.returncode == 0, done.stderr
    assert v.get("/api/health").status_code == 401
    v = dashboard.session(VIEWER, VIEWER_PASSWORD)
    done = scalperctl("user", "role", VIEWER, "--role", "admin", env=dashboard.env)
    assert done.returncode == 0, done.stderr
    assert v.get("/api/health").status_code == 401


def test_the_sessions_page_lists_sessions_and_an_admin_revokes_one(dashboard):
    admin, other = dashboard.session(), dashboard.session(address="127.0.0.2")
    rows = admin.get("/api/sessions").json()["sessions"]
    assert sorted((s["user"], s["client"], s["current"]) for s in rows) == [
        (ADMIN, "127.0.0.1", True), (ADMIN, "127.0.0.2", False)]
    assert all(s["seen_ms"] >= s["started_ms"] > 0 for s in rows)
    page = admin.get("/sessions")
    assert page.status_code == 200 and "127.0.0.2" in page.text
    victim = next(s["handle"] for s in rows if not s["current"])
    r = admin.post(f"/api/sessions/{victim}/revoke", headers={"X-CSRF-Token": dashboard.csrf(admin)})
    assert r.status_code == 200, r.text
    assert other.get("/api/health").status_code == 401 and admin.get("/api/health").status_code == 200


def test_an_admin_lifts_a_lockout_from_the_sessions_page(dashboard):
    admin = dashboard.session(address="127.0.0.9")
    for i in range(20):
        dashboard.login(password=f"wrong{i}")
    assert dashboard.login()[1].status_code == 429
    r = admin.post("/api/sessions/unlock", data={"name": ADMIN, "csrf": dashboard.csrf(admin)})
    assert r.status_code == 200 and r.json()["records"] >= 2, r.text
    assert dashboard.login()[1].status_code == 303


def test_an_admin_cannot_revoke_their_own_session_only_log_out(dashboard):
    admin = dashboard.session()
    [own] = admin.get("/api/sessions").json()["sessions"]
    r = admin.post(f"/api/sessions/{own['handle']}/revoke", headers={"X-CSRF-Token": dashboard.csrf(admin)})
    assert r.status_code == 400 and admin.get("/api/health").status_code == 200
