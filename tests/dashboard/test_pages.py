"""The pages in headless Chromium against five real services: log in, five GREEN, safe mode from the
button, a reconciliation's plan, an outage's alert on the page and at the fake Telegram, the market
chart. Screenshots kept in test-artifacts/."""

from __future__ import annotations

import os
import shutil
import signal

import httpx
import pytest

from tests.dashboard.conftest import ADMIN, PASSWORD
from tests.support import ROOT, SERVICES, wait_until

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = ROOT / "test-artifacts"
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="needs Debian chromium (apt-get install chromium)")


def _up(base: str) -> bool:
    try:
        return httpx.get(base + "/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def test_operator_logs_in_acts_and_sees_alerts_live(cluster, telegram):
    from playwright.sync_api import expect, sync_playwright

    procs, base = cluster.procs, cluster.base
    wait_until(lambda: _up(base), timeout=30, interval=0.2, what="dashboard /healthz")
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            problems: list[str] = []
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.on(
                "console", lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None
            )

            page.goto(base + "/")
            expect(page).to_have_url(base + "/login")
            page.fill('input[name="username"]', ADMIN)
            page.fill('input[name="password"]', PASSWORD)
            page.click('button[type="submit"]')
            expect(page).to_have_url(base + "/")
            for name in SERVICES:
                expect(page.locator(f'tr[data-service="{name}"] td.status')).to_have_text(
                    "GREEN", timeout=60_000
                )
            expect(page.locator("#live")).to_have_text("live updates: on", timeout=15_000)
            page.screenshot(path=str(ARTIFACTS / "dashboard-overview-logged-in.png"))

            page.goto(base + "/safe-mode")
            with page.expect_navigation():
                page.click("#safe-on")
            expect(page.locator("#operator-safe-mode")).to_have_text("on")
            with page.expect_navigation():
                page.click("#reconcile")  # the recovery plan runs, step by step, on this page

            def plan_done() -> bool:
                page.goto(base + "/safe-mode")
                return (
                    page.locator(".plan .outcome").first.text_content(timeout=2000) in ("ok", "failed")
                    if page.locator(".plan").count()
                    else False
                )

            wait_until(plan_done, timeout=60, interval=1, what="a recovery plan that finished")
            expect(page.locator(".plan").first.locator("li")).not_to_have_count(0)
            page.screenshot(path=str(ARTIFACTS / "dashboard-recovery-plan.png"))
            page.goto(base + "/")
            for name in SERVICES:  # every service's heartbeat reports it
                expect(page.locator(f'tr[data-service="{name}"] td.safe_mode')).to_have_text(
                    "true", timeout=15_000
                )
            page.screenshot(path=str(ARTIFACTS / "dashboard-safe-mode-on.png"))

            os.kill(procs["worker"].pid, signal.SIGKILL)
            expect(page.locator('tr[data-service="worker"] td.status')).to_have_text("RED", timeout=15_000)
            expect(page.locator("#alert-badge")).not_to_have_text("alerts: 0", timeout=15_000)
            wait_until(
                lambda: any("worker is RED" in t for t in telegram.texts()),
                timeout=20,
                what="the fake Telegram receiving the worker outage",
            )
            page.goto(base + "/alerts")
            row = page.locator('tr[data-key="down:worker"]')
            expect(row.locator(".telegram")).to_have_text("sent")
            page.screenshot(path=str(ARTIFACTS / "dashboard-alerts.png"))
            row.locator("button").click()
            expect(page.locator('tr[data-key="down:worker"] .acked')).to_have_text(ADMIN)

            # the market page charts the market service's live summary
            page.goto(base + "/market")
            expect(page.locator("#spread-chart canvas")).to_be_visible(timeout=15_000)
            expect(page.locator("#latency-chart canvas")).to_be_visible()
            expect(page.locator('tr[data-row="ETHUSDT"] td.spread_bps')).not_to_have_text("None")
            page.wait_for_timeout(3000)  # a few points on the chart for the screenshot
            page.screenshot(path=str(ARTIFACTS / "dashboard-market.png"))
            assert problems == []
        finally:
            browser.close()
