"""dashboard.routes.probes: /metrics for a scrape token or a loopback client, through the ASGI app with a
chosen client address (a real socket here would always be loopback)."""

from __future__ import annotations

import pytest

from tests.dashboard.conftest import asgi_client

pytestmark = pytest.mark.unit
SCRAPE = "scrape-token-0123456789"


async def test_metrics_needs_the_scrape_token_unless_loopback(tmp_path):
    async with asgi_client(tmp_path, "10.1.2.3", metrics_token=SCRAPE) as c:
        assert (await c.get("/metrics")).status_code == 401
        assert (await c.get("/metrics", headers={"Authorization": "Bearer wrong"})).status_code == 401
        r = await c.get("/metrics", headers={"Authorization": f"Bearer {SCRAPE}"})
        assert r.status_code == 200 and "python_info" in r.text
    async with asgi_client(tmp_path, "127.0.0.1", metrics_token=SCRAPE) as c:
        assert (await c.get("/metrics")).status_code == 200
