"""dashboard.app: every route but the public ones needs a session (private by default); clients outside the
allow-list are refused; Redis down is a 503, not a crash; no secret reaches a response."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.dashboard.conftest import ADMIN_HASH, PAGES, TOKEN, admin_env, asgi_client, start_dashboard, stop

pytestmark = pytest.mark.service
NETWORKS = "10.0.0.0/8, 192.168.1.0/24"
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


async def test_clients_outside_the_allow_list_are_refused(tmp_path):
    async with asgi_client(tmp_path, "203.0.113.7", web_allow_networks=NETWORKS) as c:
        for path in ("/login", "/metrics", "/static/style.css"):
            r = await c.get(path)
            assert r.status_code == 403 and r.headers["x-frame-options"] == "DENY", path
    async with asgi_client(tmp_path, "192.168.1.20", web_allow_networks=NETWORKS) as c:
        assert (await c.get("/login")).status_code == 200


def test_login_while_redis_is_down_is_a_503_not_a_crash(own_redis, tmp_path, telegram):
    d = start_dashboard(own_redis.url, tmp_path, **admin_env(telegram))
    try:
        own_redis.stop()
        _, r = d.login()
        assert r.status_code == 503 and "Redis unreachable" in r.json()["detail"], r.text
        assert d.proc.poll() is None
    finally:
        stop(d.proc)


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
