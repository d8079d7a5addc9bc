"""The dashboard's pages in headless Chromium: the overview with five services, updated live over SSE, and
its P&L today following the execution events; the latency and execution-quality charts drawn."""

from __future__ import annotations

import os
import signal
import time

import httpx
import pytest

from common import constants as c
from common.quality import bucket_start
from common.schemas import PositionEvent, encode
from tests.dashboard.conftest import EXEC_EXPOSITION, fake_metrics, start_dashboard, stop
from tests.browser import ARTIFACTS, chromium, needs_chromium
from tests.support import SERVICES, free_port, service_env, start_service, start_sim, wait_until

pytestmark = needs_chromium


@pytest.fixture
def cluster(redis_url, tmp_path):
    sim = start_sim(tmp_path=tmp_path)  # market and execution are GREEN only with an exchange to talk to
    env = service_env(redis_url, BYBIT_REST_URL=sim.rest, BYBIT_WS_PUBLIC_URL=sim.ws_public,
                      BYBIT_WS_PRIVATE_URL=sim.ws_private, BYBIT_API_KEY=sim.key, BYBIT_API_SECRET=sim.secret)
    procs = {name: start_service(name, env, tmp_path / f"{name}.log") for name in SERVICES}
    base = f"http://127.0.0.1:{env['WEB_PORT']}"
    try:
        yield procs, base
    finally:
        for p in procs.values():
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs.values():
            p.wait(timeout=20)
        sim.stop()


def _statuses(base: str) -> dict[str, str]:
    try:
        return {s["name"]: s["status"] for s in httpx.get(f"{base}/api/health", timeout=2).json()["services"]}
    except (httpx.HTTPError, ValueError):
        return {}


def test_overview_shows_five_green_and_turns_red_live(cluster, redis_server):
    from playwright.sync_api import expect

    procs, base = cluster
    wait_until(lambda: set(_statuses(base).values()) == {"GREEN"} and len(_statuses(base)) == 5, timeout=60,
               interval=0.3, what="five GREEN on /api/health")
    with chromium() as browser:
        page = browser.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(base + "/")
        for name in SERVICES:
            expect(page.locator(f'tr[data-service="{name}"] td.status')).to_have_text("GREEN", timeout=15_000)
        expect(page.locator("#live")).to_have_text("live updates: on", timeout=15_000)
        page.screenshot(path=str(ARTIFACTS / "overview-green.png"))

        # P&L today follows the execution events without a reload (a symbol nobody else trades here)
        r = redis_server.client()
        event = PositionEvent(symbol="XRPUSDT", side="", size="0", realised_pnl="7.25", ts_ns=0)
        r.xadd(c.EXEC_EVENTS, {c.PAYLOAD_FIELD: encode(event)})
        r.close()
        expect(page.locator('#pnl-symbols tr[data-symbol="XRPUSDT"] td.pnl')).to_have_text("7.25",
                                                                                     timeout=20_000)

        os.kill(procs["worker"].pid, signal.SIGKILL)  # no reload: the page must learn it over SSE
        expect(page.locator('tr[data-service="worker"] td.status')).to_have_text("RED", timeout=10_000)
        expect(page.locator("#overall")).to_have_text("RED")
        page.screenshot(path=str(ARTIFACTS / "overview-worker-red.png"))
        assert errors == []


def test_latency_and_quality_pages_draw_their_charts(redis_server, redis_url, tmp_path):
    """Tick-to-order, each histogram and the four quality charts drawn, from quality sums as execution keeps
    them and a stand-in for execution's metrics endpoint."""
    sums = {"orders": 1, "intent_qty": 0.1, "fills": 1, "fill_qty": 0.1, "maker_qty": 0.1, "fees": 0.001,
            "slippage_bps_qty": 0.2, "matched_qty": 0.1}
    r = redis_server.client()
    r.hset(c.exec_quality_key("BTCUSDT"), mapping=sums)
    r.hset(c.exec_quality_bucket_key("BTCUSDT", bucket_start(time.time())), mapping=sums)
    r.close()
    with fake_metrics(EXEC_EXPOSITION) as execution_port:
        d = start_dashboard(redis_url, tmp_path, ADMIN_PASSWORD_HASH="",
                            DASHBOARD_METRICS_PORT=str(free_port()), EXECUTION_METRICS_PORT=str(execution_port))
        try:
            _draws_charts(d.base)
        finally:
            stop(d.proc)


def _draws_charts(base: str) -> None:
    from playwright.sync_api import expect

    wait_until(lambda: httpx.get(base + "/api/latency").json()["services"]["dashboard"]["histograms"],
               timeout=20, what="the dashboard's own bus-handler histograms")
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("console", lambda m: errors.append(m.text) if "Content Security" in m.text else None)
        page.goto(base + "/latency")
        expect(page.locator("#tick-to-order-chart canvas")).to_be_visible()
        expect(page.locator('.histograms[data-service="dashboard"] .chart canvas').first).to_be_visible()
        page.screenshot(path=str(ARTIFACTS / "latency.png"), full_page=True)
        page.goto(base + "/quality")
        for chart in ("slippage-chart", "fill-ratio-chart", "maker-share-chart", "fees-chart"):
            expect(page.locator(f"#{chart} canvas")).to_be_visible()
        expect(page.locator("#fees-chart .u-legend")).to_contain_text("BTCUSDT")
        page.screenshot(path=str(ARTIFACTS / "quality.png"), full_page=True)
        assert errors == []
