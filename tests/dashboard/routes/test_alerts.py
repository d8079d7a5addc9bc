"""dashboard.routes.alerts: the filters take "all" and refuse a bad severity; in Chromium, an alert on
sys.alerts shows in the open alert center and raises the badge on another open page, and acknowledging it
from the row the page added lowers the badge again, all without a reload."""

from __future__ import annotations

import pytest
from common.schemas import Alert, Severity, encode, now_ns

from common import constants as c
from tests.browser import ARTIFACTS, needs_chromium
from tests.dashboard.conftest import ADMIN, live_page

pytestmark = pytest.mark.service


def test_the_alert_filters_all_severities_and_refuse_a_bad_one(dashboard):
    """The filter form's "all" sends an empty severity: every alert, not a 422."""
    admin = dashboard.session()
    for path in ("/alerts?severity=&unacked=true", "/api/alerts?severity=", "/api/alerts?severity=CRIT"):
        assert admin.get(path).status_code == 200, path
    r = admin.get("/api/alerts?severity=LOUD")
    assert r.status_code == 422 and "severity" in r.text


def _badge(page) -> int:
    return int(page.locator("#alert-badge").text_content().removeprefix("alerts: "))


@needs_chromium
def test_alert_center_and_badge_update_without_reload(dashboard, admin_browser, bus):
    from playwright.sync_api import expect

    context, problems = admin_browser
    alerts, services = (live_page(context, dashboard.base + p) for p in ("/alerts", "/services"))
    before = _badge(services)
    alert = Alert(key="live:probe", severity=Severity.WARN, source="test", title="a live alert",
                  detail="published while the pages stay open", ts_ns=now_ns())
    bus.xadd(c.SYS_ALERTS, {c.PAYLOAD_FIELD: encode(alert)})
    row = alerts.locator('tr[data-key="live:probe"]')
    expect(row.locator("td.title")).to_have_text("a live alert", timeout=10_000)
    expect(row.locator("td.severity")).to_have_text("WARN")
    expect(services.locator("#alert-badge")).to_have_text(f"alerts: {before + 1}", timeout=10_000)
    alerts.screenshot(path=str(ARTIFACTS / "live-alert-center.png"))
    services.screenshot(path=str(ARTIFACTS / "live-services-badge.png"))

    with alerts.expect_navigation():
        row.locator(".acked button").click()  # the form the page built for the new row
    expect(alerts.locator('tr[data-key="live:probe"] .acked')).to_have_text(ADMIN)
    expect(services.locator("#alert-badge")).to_have_text(f"alerts: {before}", timeout=10_000)
    assert problems == []
