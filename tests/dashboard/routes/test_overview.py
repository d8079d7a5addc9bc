"""dashboard.routes.overview: the overview in headless Chromium with five services, updated live over SSE,
and its P&L today following the execution events; P&L today on the page and the API."""

from __future__ import annotations

import os
import signal
from datetime import UTC, datetime

import httpx
import pytest
import redis

from common import constants as c
from common.bybit.enums import Side
from common.schemas import PositionEvent, encode
from tests.browser import ARTIFACTS, chromium, needs_chromium
from tests.dashboard.conftest import watched_page
from tests.support import SERVICES, wait_until

pytestmark = pytest.mark.platform


def _statuses(base: str) -> dict[str, str]:
    try:
        return {s["name"]: s["status"] for s in httpx.get(f"{base}/api/health", timeout=2).json()["services"]}
    except (httpx.HTTPError, ValueError):
        return {}


@needs_chromium
def test_overview_shows_five_green_and_turns_red_live(open_cluster, redis_server):
    from playwright.sync_api import expect

    procs, base = open_cluster.procs, open_cluster.base
    wait_until(lambda: set(_statuses(base).values()) == {"GREEN"} and len(_statuses(base)) == 5, timeout=60,
               interval=0.3, what="five GREEN on /api/health")
    with chromium() as browser:
        errors: list[str] = []
        page = watched_page(browser, errors)
        page.goto(base + "/")
        for name in SERVICES:
            expect(page.locator(f'tr[data-service="{name}"] td.status')).to_have_text("GREEN", timeout=15_000)
        expect(page.locator("#live")).to_have_text("live updates: on", timeout=15_000)
        page.screenshot(path=str(ARTIFACTS / "overview-green.png"))

        # P&L today follows the execution events without a reload (a symbol nobody else trades here)
        r = redis_server.client()
        event = PositionEvent(symbol="XRPUSDT", side=Side.NONE, size="0", realised_pnl="7.25", ts_ns=0)
        r.xadd(c.EXEC_EVENTS, {c.PAYLOAD_FIELD: encode(event)})
        r.close()
        expect(page.locator('#pnl-symbols tr[data-symbol="XRPUSDT"] td.pnl')).to_have_text("7.25",
                                                                                     timeout=20_000)

        os.kill(procs["worker"].pid, signal.SIGKILL)  # no reload: the page must learn it over SSE
        expect(page.locator('tr[data-service="worker"] td.status')).to_have_text("RED", timeout=10_000)
        expect(page.locator("#overall")).to_have_text("RED")
        page.screenshot(path=str(ARTIFACTS / "overview-worker-red.png"))
        assert errors == []


def test_pnl_today_on_the_overview_and_the_api(dashboard, redis_url):
    admin = dashboard.session()
    assert "no fill or position event since 00:00 UTC" in admin.get("/api/pnl/today").json()["no_data"]
    assert 'id="pnl-total">no data' in admin.get("/").text
    midnight = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    r = redis.Redis.from_url(redis_url)
    try:
        pos = dict(symbol="ETHUSDT", side=Side.NONE, size="0", ts_ns=0)
        r.xadd(c.EXEC_EVENTS, {c.PAYLOAD_FIELD: encode(PositionEvent(realised_pnl="4", **pos))},
               id=f"{int(midnight.timestamp() * 1000) - 1}-0")
        r.xadd(c.EXEC_EVENTS, {c.PAYLOAD_FIELD: encode(PositionEvent(realised_pnl="7.25", **pos))})
    finally:
        r.close()
    got = admin.get("/api/pnl/today").json()
    assert got["realised_pnl"] == "3.25" and got["symbols"]["ETHUSDT"]["baseline"] == "before 00:00"
    assert 'id="pnl-total">3.25<' in admin.get("/").text
