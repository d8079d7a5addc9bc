"""The app's second line behind the firewall: client allow-list, and /metrics for a token or loopback.

Through the ASGI app with a chosen client address (a real socket here would always be loopback).
"""

from __future__ import annotations

from types import SimpleNamespace

import fakeredis
import httpx
from common.config import Settings
from dashboard.app import create_app

from tests.dashboard.conftest import ADMIN_HASH

SCRAPE = "scrape-token-0123456789"


def _client(tmp_path, host: str) -> httpx.AsyncClient:
    settings = Settings(
        _env_file=None,
        data_dir=tmp_path,
        admin_password_hash=ADMIN_HASH,
        metrics_token=SCRAPE,
        web_allow_networks="10.0.0.0/8, 192.168.1.0/24",
    )
    bus = SimpleNamespace(redis=fakeredis.FakeAsyncRedis())  # nothing here reaches Redis
    app = create_app(rt=SimpleNamespace(settings=settings, version="test", bus=bus), monitor=None, alerts=None)
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=(host, 40000)), base_url="http://dash"
    )


async def test_clients_outside_the_allow_list_are_refused(tmp_path):
    async with _client(tmp_path, "203.0.113.7") as c:
        for path in ("/login", "/metrics", "/static/style.css"):
            r = await c.get(path)
            assert r.status_code == 403 and r.headers["x-frame-options"] == "DENY", path
    async with _client(tmp_path, "192.168.1.20") as c:
        assert (await c.get("/login")).status_code == 200


async def test_metrics_needs_the_scrape_token_unless_loopback(tmp_path):
    async with _client(tmp_path, "10.1.2.3") as c:
        assert (await c.get("/metrics")).status_code == 401
        assert (await c.get("/metrics", headers={"Authorization": "Bearer wrong"})).status_code == 401
        r = await c.get("/metrics", headers={"Authorization": f"Bearer {SCRAPE}"})
        assert r.status_code == 200 and "python_info" in r.text
    async with _client(tmp_path, "127.0.0.1") as c:
        assert (await c.get("/metrics")).status_code == 200
