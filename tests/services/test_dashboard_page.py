"""The dashboard's overview page in headless Chromium: five services, updated live over SSE."""

from __future__ import annotations

import os
import shutil
import signal

import httpx
import pytest

from tests.support import ROOT, SERVICES, service_env, start_service, start_sim, wait_until

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = ROOT / "test-artifacts"
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="needs Debian chromium (apt-get install chromium)")


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


def test_overview_shows_five_green_and_turns_red_live(cluster):
    from playwright.sync_api import expect, sync_playwright

    procs, base = cluster
    wait_until(lambda: set(_statuses(base).values()) == {"GREEN"} and len(_statuses(base)) == 5, timeout=60,
               interval=0.3, what="five GREEN on /api/health")
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        try:
            page = browser.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(base + "/")
            for name in SERVICES:
                expect(page.locator(f'tr[data-service="{name}"] td.status')).to_have_text("GREEN", timeout=15_000)
            expect(page.locator("#live")).to_have_text("live updates: on", timeout=15_000)
            page.screenshot(path=str(ARTIFACTS / "overview-green.png"))

            os.kill(procs["worker"].pid, signal.SIGKILL)  # no reload: the page must learn it over SSE
            expect(page.locator('tr[data-service="worker"] td.status')).to_have_text("RED", timeout=10_000)
            expect(page.locator("#overall")).to_have_text("RED")
            page.screenshot(path=str(ARTIFACTS / "overview-worker-red.png"))
            assert errors == []
        finally:
            browser.close()
