"""The pages together in headless Chromium against five real services (journeys across pages, so no one
routes module's): log in, five GREEN, a manual order from the positions page, safe mode from the button (a
reconciliation waits for it), leaving it runs a new recovery plan to ok, an outage's alert on the page and
at the fake Telegram, the market chart. Then pages open and never reloaded: positions and orders, safe
mode and recovery, the services' pids. Screenshots kept in test-artifacts/."""

from __future__ import annotations

import os
import signal
import subprocess

import pytest
from common.bybit.enums import Side

from tests.browser import ARTIFACTS, chromium, needs_chromium
from tests.dashboard.conftest import (ADMIN, PASSWORD, dashboard_up, live_page, logged_in_context,
                                     watched_page)
from tests.support import SERVICES, VENV_BIN, start_service, wait_until

pytestmark = [pytest.mark.platform, needs_chromium]


def test_operator_logs_in_acts_and_sees_alerts_live(cluster, telegram):
    from playwright.sync_api import expect

    procs, base = cluster.procs, cluster.base
    wait_until(lambda: dashboard_up(base), timeout=30, interval=0.2, what="dashboard /healthz")
    with chromium() as browser:
        problems: list[str] = []
        page = watched_page(browser, problems)

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


def test_positions_safe_mode_and_services_update_without_reload(cluster, tmp_path):
    """With five services and the simulator: a manual order shows among the open orders of the open
    positions page; `scalperctl safe-mode on` / `off` show as execution's state and a new recovery plan on
    the open safe mode page; a worker started again shows its new pid on the open services page."""
    from playwright.sync_api import expect

    base = cluster.base
    wait_until(lambda: dashboard_up(base), timeout=30, interval=0.2, what="dashboard /healthz")
    problems: list[str] = []
    with chromium() as browser:
        context = logged_in_context(browser, base, problems)
        api = context.request

        def five_green() -> bool:
            services = api.get(base + "/api/health").json()["services"]
            return len(services) == 5 and {s["status"] for s in services} == {"GREEN"}

        wait_until(five_green, timeout=60, interval=0.5, what="five GREEN on /api/health")
        positions, safe_mode, services = (live_page(context, base + path)
                                          for path in ("/positions", "/safe-mode", "/services"))

        # a manual order, as a script would send it: the open positions page lists it
        price = float(api.get(base + "/api/market").json()["symbols"]["BTCUSDT"]["last_price"])
        token = positions.locator('input[name="csrf"]').first.get_attribute("value")
        order_form = {"side": "buy", "symbol": "BTCUSDT", "qty": "0.01", "limit": f"{price * 0.9:.1f}"}
        sent = api.post(base + "/api/orders", headers={"X-CSRF-Token": token}, form=order_form)
        assert sent.ok, sent.text()
        order = positions.locator(f'#orders tr[data-row="{sent.json()["orderLinkId"]}"]')
        expect(order.locator("td.symbol")).to_have_text("BTCUSDT", timeout=20_000)
        expect(order.locator("td.side")).to_have_text(Side.BUY)
        positions.screenshot(path=str(ARTIFACTS / "live-positions.png"))

        # safe mode from the CLI: execution's state on the open page, then a recovery plan when released
        ctl = str(VENV_BIN / "scalperctl")
        subprocess.run([ctl, "safe-mode", "on"], env=cluster.env, check=True, capture_output=True,
                       timeout=30)
        expect(safe_mode.locator("#operator-safe-mode")).to_have_text("on", timeout=10_000)
        expect(safe_mode.locator("#execution-state")).to_have_text("SAFE", timeout=20_000)
        expect(safe_mode.locator("#reconcile-waits")).to_contain_text("the reconciliation waits")
        safe_mode.screenshot(path=str(ARTIFACTS / "live-safe-mode-on.png"))
        released = safe_mode.locator(".plan", has_text="operator released safe mode")
        expect(released).to_have_count(0)
        subprocess.run([ctl, "safe-mode", "off"], env=cluster.env, check=True, capture_output=True,
                       timeout=30)
        expect(released.locator(".outcome")).to_have_text("ok", timeout=60_000)
        expect(safe_mode.locator("#execution-state")).to_have_text("NORMAL", timeout=20_000)
        expect(safe_mode.locator("#reconcile-waits")).to_have_count(0)
        safe_mode.screenshot(path=str(ARTIFACTS / "live-recovery-plan.png"))

        # the worker stopped and started again: its new pid and the restart on the open services page
        worker = services.locator('tr[data-service="worker"]')
        expect(worker.locator("td.pid")).to_have_text(str(cluster.procs["worker"].pid))
        cluster.procs["worker"].send_signal(signal.SIGTERM)
        cluster.procs["worker"].wait(timeout=20)
        cluster.procs["worker"] = start_service("worker", cluster.env, tmp_path / "worker-again.log")
        expect(worker.locator("td.pid")).to_have_text(str(cluster.procs["worker"].pid), timeout=20_000)
        expect(worker.locator("td.restarts")).to_have_text("1")
        services.screenshot(path=str(ARTIFACTS / "live-services-restarted.png"))
        assert problems == []
