"""The pages in headless Chromium against five real services: log in, five GREEN, a manual order from
the positions page, safe mode from the button (a reconciliation waits for it), leaving it runs a new
recovery plan to ok, an outage's alert on the page and at the fake Telegram, the market chart.
Screenshots kept in test-artifacts/."""

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

            # a manual order from the positions page's form: it rests on the simulator with its TP and SL
            page.goto(base + "/positions")
            price = float(page.request.get(base + "/api/market").json()["symbols"]["BTCUSDT"]["last_price"])
            page.select_option('#order-form select[name="side"]', "buy")
            page.fill('#order-form input[name="symbol"]', "BTCUSDT")
            page.fill('#order-form input[name="qty"]', "0.01")
            page.fill('#order-form input[name="limit"]', f"{price * 0.9:.1f}")
            page.fill('#order-form input[name="tp"]', f"{price * 1.1:.1f}")
            page.fill('#order-form input[name="sl"]', f"{price * 0.8:.1f}")
            with page.expect_navigation():
                page.click("#place-order")
            expect(page).to_have_url(base + "/positions")

            def order_shown() -> bool:
                page.goto(base + "/positions")
                return page.locator('tr[data-row^="m-"]').count() == 1

            wait_until(order_shown, timeout=30, interval=1, what="the manual order among the open orders")
            row = page.locator('tr[data-row^="m-"]')
            tp_sl = [float(row.locator(f"td.{k}").text_content()) for k in ("takeProfit", "stopLoss")]
            assert tp_sl == [float(f"{price * 1.1:.1f}"), float(f"{price * 0.8:.1f}")]
            page.screenshot(path=str(ARTIFACTS / "dashboard-manual-order.png"))

            page.goto(base + "/safe-mode")
            with page.expect_navigation():
                page.click("#safe-on")
            expect(page.locator("#operator-safe-mode")).to_have_text("on")

            def held() -> bool:
                page.goto(base + "/safe-mode")
                return page.locator("#reconcile-waits").count() == 1

            wait_until(held, timeout=30, interval=1, what="execution holding SAFE for the operator")
            with page.expect_navigation():
                page.click("#reconcile")  # while safe mode holds, the page says the reconciliation waits
            expect(page.locator("#reconcile-waits")).to_contain_text(
                "the reconciliation waits until safe mode is released"
            )
            token = page.locator('input[name="csrf"]').first.get_attribute("value")
            asked = page.request.post(base + "/api/reconcile", headers={"X-CSRF-Token": token}).json()
            assert "the reconciliation waits until safe mode is released" in asked["note"]
            page.goto(base + "/")
            for name in SERVICES:  # every service's heartbeat reports it
                expect(page.locator(f'tr[data-service="{name}"] td.safe_mode')).to_have_text(
                    "true", timeout=15_000
                )
            page.screenshot(path=str(ARTIFACTS / "dashboard-safe-mode-on.png"))

            # leaving safe mode starts a recovery plan that was not there before the click, run to ok
            page.goto(base + "/safe-mode")
            before = page.request.get(base + "/api/safe-mode").json()["recovery_plans"]
            seen = {plan["plan_id"] for plan in before}
            with page.expect_navigation():
                page.click("#safe-off")
            expect(page.locator("#operator-safe-mode")).to_have_text("off")

            def new_plan_ok() -> str | None:
                plans = page.request.get(base + "/api/safe-mode").json()["recovery_plans"]
                return next((p["plan_id"] for p in plans if p["plan_id"] not in seen and p["outcome"] == "ok"
                             and p["trigger"] == "operator released safe mode"), None)

            plan_id = wait_until(new_plan_ok, timeout=60, interval=1, what="a new recovery plan run to ok")
            page.goto(base + "/safe-mode")
            plan = page.locator(f'.plan[data-plan="{plan_id}"]')
            expect(plan.locator("h3")).to_contain_text("operator released safe mode")
            expect(plan.locator(".outcome")).to_have_text("ok")
            expect(plan.locator("li")).not_to_have_count(0)
            expect(plan.locator("li strong")).to_have_text(["ok"] * plan.locator("li").count())
            expect(page.locator("#execution-state")).to_have_text("NORMAL", timeout=15_000)
            expect(page.locator("#reconcile-waits")).to_have_count(0)
            page.screenshot(path=str(ARTIFACTS / "dashboard-recovery-plan.png"))

            page.goto(base + "/")
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
