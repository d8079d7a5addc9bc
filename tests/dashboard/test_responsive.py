"""Every page in headless Chromium on a phone (390x844) and a laptop (1280x800): nothing scrolls sideways,
the navigation folds behind "menu" on the phone, buttons are tap-sized; with positions, orders, trades,
market data and alerts on the pages, so full tables are measured. Screenshots of the overview at both
sizes, and of every page on the phone, go to the test's tmp dir (artifacts for a reviewer, not committed).
axe-core (from npm) finds no serious or critical accessibility violation on any page at either size."""

from __future__ import annotations

import json
import time

import msgspec
import pytest
import redis
from common.bybit.enums import OrderStatus, OrderType, Side
from common.bybit.schemas.order import Order
from common.bybit.schemas.position import Position
from common.schemas import FillEvent, encode

from common import constants as c
from tests.browser import needs_chromium
from tests.dashboard.conftest import PAGES
from tests.support import ROOT

pytestmark = [pytest.mark.platform, needs_chromium]
SIZES = {"phone": (390, 844), "laptop": (1280, 800)}
TAP_PX = 44  # the smallest comfortable touch target (WCAG 2.5.5)
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"  # from npm: `npm ci` at the repository root
# The violations of serious or critical impact axe finds on the page: [rule id, impact, first offenders].
AXE_RUN = """axe.run(document).then(r => r.violations
  .filter(v => v.impact === "serious" || v.impact === "critical")
  .map(v => [v.id, v.impact, v.nodes.slice(0, 3).map(n => n.target.join(" "))]))"""


def _seed(redis_url: str) -> None:
    """A long, a resting order with a long orderLinkId, a closed round trip, two symbols of market data."""
    r = redis.Redis.from_url(redis_url)
    now_ms = int(time.time() * 1000)
    try:
        r.hset(c.EXEC_POSITIONS_KEY, "1000000BABYDOGEUSDT", msgspec.json.encode(Position(
            symbol="1000000BABYDOGEUSDT", side=Side.BUY, size="123456789", avgPrice="0.0012345",
            positionValue="152407.5", leverage="10", markPrice="0.0012400", unrealisedPnl="678.9012345",
            cumRealisedPnl="-12.5", takeProfit="0.0013000", stopLoss="0.0011900", updatedTime=str(now_ms))))
        r.hset(c.EXEC_ORDERS_KEY, "m-0123456789abcdef0123456789ab", msgspec.json.encode(Order(
            orderId="0d9b6c3e-3f4f-4a6e-9d55-0123456789ab", orderLinkId="m-0123456789abcdef0123456789ab",
            symbol="ETHUSDT", side=Side.SELL, orderType=OrderType.LIMIT, price="4000.50", qty="0.50",
            orderStatus=OrderStatus.NEW, timeInForce="GTC", takeProfit="3500.00", stopLoss="4200.25",
            createdTime=str(now_ms))))
        for i, (side, price) in enumerate([(Side.BUY, "65000.10"), (Side.SELL, "65100.20")]):
            r.xadd(c.EXEC_EVENTS, {c.PAYLOAD_FIELD: encode(FillEvent(
                exec_id=f"x{i}", order_link_id=f"s-BTCUSDT-{'ex'[i]}-{now_ms - 60_000}", order_id=f"o{i}",
                symbol="BTCUSDT", side=side, price=price, qty="0.010", fee="0.35", is_maker=False,
                exchange_ts_ns=(now_ms - 60_000 + i * 30_000) * 1_000_000, ts_ns=0))})
        r.set(c.EXEC_DAILY_LOSS_KEY, json.dumps({"day": now_ms // 86_400_000, "day_start": 10_000.0,
                                                 "equity": 9_876.54, "ts_ms": now_ms, "killed": ""}))
        for sym, px in (("BTCUSDT", "65000.10"), ("ETHUSDT", "4000.50")):
            r.hset(c.MARKET_SUMMARY_KEY, sym, json.dumps({
                "symbol": sym, "last_price": px, "bid": float(px) - 0.1, "ask": float(px), "spread": 0.1,
                "spread_bps": 0.015384615385, "latency_ms": 12.3456, "stale": "", "u": 123456789,
                "exchange_ts_ns": now_ms * 1_000_000, "updated_ts_ns": now_ms * 1_000_000}))
    finally:
        r.close()


def _open(page, url: str) -> None:
    """`url` loaded and, where the page has live updates, drawn from its first answer."""
    from playwright.sync_api import expect

    page.goto(url)
    if page.locator("#live").count():
        expect(page.locator("#live")).to_have_text("live updates: on", timeout=15_000)


def _every_page(page, base: str):
    """Each page at each size, loaded and drawn: yields (size name, path)."""
    for name, (width, height) in SIZES.items():
        page.set_viewport_size({"width": width, "height": height})
        for path in PAGES:
            _open(page, base + path)
            yield name, path


def _overflow(page) -> int:
    """How many CSS pixels the page is wider than the window (0: nothing scrolls sideways)."""
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def test_no_page_scrolls_sideways_on_a_phone_or_a_laptop(dashboard, redis_url, admin_browser, tmp_path):
    from playwright.sync_api import expect

    _seed(redis_url)
    context, problems = admin_browser
    page = context.new_page()
    wide: dict[str, int] = {}
    for name, path in _every_page(page, dashboard.base):
        if (extra := _overflow(page)) > 0:
            wide[f"{name} {path}"] = extra
        if name == "phone":  # what each page looks like on a phone, for a reviewer
            shot = tmp_path / f"phone{path.replace('/', '-').rstrip('-')}.png"
            page.screenshot(path=str(shot), full_page=True)
    for width, height in SIZES.values():
        page.set_viewport_size({"width": width, "height": height})
        page.goto(dashboard.base + "/")
        expect(page.locator("#live")).to_have_text("live updates: on", timeout=15_000)
        expect(page.locator('#positions tr[data-symbol="1000000BABYDOGEUSDT"]')).to_be_visible()
        page.screenshot(path=str(tmp_path / f"overview-{width}x{height}.png"), full_page=True)
        page.goto(dashboard.base + "/trades")
        expect(page.locator("#pnl-chart canvas")).to_be_visible(timeout=15_000)  # the P&L curve is drawn
        expect(page.locator("#equity-chart canvas")).to_be_visible(timeout=15_000)  # and the equity curve
    assert wide == {}, f"pages wider than the window (px): {wide}"
    assert problems == []


def test_on_a_phone_the_navigation_folds_and_buttons_are_tap_sized(dashboard, admin_browser):
    from playwright.sync_api import expect

    context, problems = admin_browser
    page = context.new_page()
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(dashboard.base + "/trades")
    trades_link = page.locator('header nav a[href="/trades"]')
    expect(trades_link).to_be_hidden()
    page.click("label.nav-button")
    expect(trades_link).to_be_visible()
    for selector in ("label.nav-button", "#trade-filter button", "#csv", "#equity-period",
                     'header form button[type="submit"]'):
        box = page.locator(selector).bounding_box()
        assert box["height"] >= TAP_PX, (selector, box)
    page.set_viewport_size({"width": 1280, "height": 800})
    expect(trades_link).to_be_visible()
    expect(page.locator("label.nav-button")).to_be_hidden()
    assert problems == []


def test_no_page_has_a_serious_or_critical_accessibility_violation(dashboard, redis_url, admin_browser):
    assert AXE.exists(), f"{AXE} missing: run `npm ci` at the repository root"
    _seed(redis_url)
    context, problems = admin_browser
    page = context.new_page()
    found: dict[str, list] = {}
    for name, path in _every_page(page, dashboard.base):
        page.evaluate(AXE.read_text())  # through the DevTools protocol: the page's CSP does not apply
        if violations := page.evaluate(AXE_RUN):
            found[f"{name} {path}"] = violations
    assert found == {}
    assert problems == []
