"""dashboard.routes.latency: the latency page scrapes each service's own Prometheus histograms (here: the
dashboard's bus handlers and a stand-in for execution's endpoint) and shows them, tick-to-order first; in
Chromium its charts are drawn."""

from __future__ import annotations

import httpx
import pytest

from tests.browser import ARTIFACTS, chromium, needs_chromium
from tests.dashboard.conftest import (ADMIN, ADMIN_HASH, EXEC_EXPOSITION, fake_metrics, start_dashboard, stop,
                                     watched_page)
from tests.support import free_port, wait_until

pytestmark = pytest.mark.service

MARKET_EXPOSITION = """\
# HELP scalper_market_feed_latency_seconds Feed latency by hop
# TYPE scalper_market_feed_latency_seconds histogram
scalper_market_feed_latency_seconds_bucket{hop="exchange_to_received",le="0.001"} 2.0
scalper_market_feed_latency_seconds_bucket{hop="exchange_to_received",le="0.01"} 5.0
scalper_market_feed_latency_seconds_bucket{hop="exchange_to_received",le="+Inf"} 5.0
scalper_market_feed_latency_seconds_count{hop="exchange_to_received"} 5.0
scalper_market_feed_latency_seconds_sum{hop="exchange_to_received"} 0.02
"""


def test_latency_shows_the_services_histograms_and_says_why_others_are_missing(redis_url, tmp_path):
    with fake_metrics(EXEC_EXPOSITION) as execution_port, fake_metrics(MARKET_EXPOSITION) as market_port:
        d = start_dashboard(
            redis_url,
            tmp_path,
            DASHBOARD_METRICS_PORT=str(free_port()),
            EXECUTION_METRICS_PORT=str(execution_port),
            MARKET_METRICS_PORT=str(market_port),
            ADMIN_USERNAME=ADMIN,
            ADMIN_PASSWORD_HASH=ADMIN_HASH,
        )
        try:
            _check_latency(d.session())
        finally:
            stop(d.proc)


def _check_latency(c) -> None:
    def handler_rows():
        own = c.get("/api/latency").json()["services"]["dashboard"]["histograms"]
        return [h for h in own if h["name"] == "scalper_bus_handler_seconds" and h["count"] >= 3]

    [row] = [
        h
        for h in wait_until(handler_rows, timeout=20, what="bus handler samples")
        if h["labels"].get("stream") == "sys.health"
    ]
    assert 0 < row["p50"] <= row["p90"] <= row["p99"]
    assert sum(b["count"] for b in row["buckets"]) == row["count"] and row["buckets"][-1]["le"] == "+Inf"
    body = c.get("/api/latency").json()
    strategy = body["services"]["strategy"]
    assert strategy["histograms"] == [] and "metrics port not fixed" in strategy["error"]
    tick = body["tick_to_order"]
    assert tick["labels"] == {"stage": "tick_to_order"} and tick["count"] == 10 and tick["p99"] == "+Inf"
    assert [b["count"] for b in tick["buckets"]] == [3, 0, 6, 1]
    chain = {s["stage"]: s for s in body["chain"]}  # tick-to-order's stages, in path order
    assert [s["service"] for s in body["chain"]] == ["market"] * 2 + ["strategy"] * 2 + ["execution"] * 3
    feed = chain["feed: exchange -> market received"]["histogram"]
    assert (feed["count"], feed["p50"], feed["p99"]) == (5, 0.01, 0.01)
    assert chain["exchange: REST sent -> ack"]["histogram"] is None  # a series without samples
    assert chain["market: received -> published"]["histogram"] is None  # a series the endpoint lacks
    page = c.get("/latency").text
    stages = [page.index(s["stage"].replace(">", "&gt;")) for s in body["chain"]]
    assert stages == sorted(stages) and stages[-1] < page.index('<table class="latency"')
    assert page.count("no samples yet") == 6  # all but the feed
    assert "scalper_bus_handler_seconds" in page and "stream=sys.health" in page
    assert page.index('id="tick-to-order-chart"') < page.index('<table class="latency"')  # first on the page
    assert "count 10 &middot; p50 0.1 &middot; p90 0.1 &middot; p99 +Inf" in page
    for service in ("execution", "dashboard"):
        assert f'<div class="histograms" data-service="{service}">' in page
    assert '<script src="/static/latency.js" defer></script>' in page


@needs_chromium
def test_the_latency_page_draws_tick_to_order_and_each_histogram(redis_url, tmp_path):
    """From a stand-in for execution's metrics endpoint and the dashboard's own bus handlers."""
    from playwright.sync_api import expect

    exec_with_stage = EXEC_EXPOSITION.replace('stage="ack"} 0.0', 'stage="ack"} 1.0')  # one ack, < 1 ms
    with fake_metrics(exec_with_stage) as execution_port:
        d = start_dashboard(redis_url, tmp_path, ADMIN_PASSWORD_HASH="", DASHBOARD_METRICS_PORT=str(free_port()),
                            EXECUTION_METRICS_PORT=str(execution_port))
        try:
            def own() -> list:
                return httpx.get(d.base + "/api/latency").json()["services"]["dashboard"]["histograms"]

            wait_until(own, timeout=20, what="the dashboard's own bus-handler histograms")
            with chromium() as browser:
                errors: list[str] = []
                page = watched_page(browser, errors)
                page.goto(d.base + "/latency")
                expect(page.locator("#tick-to-order-chart canvas")).to_be_visible()
                expect(page.locator(".chain-charts canvas")).to_have_count(1)  # the one stage with samples
                charts = page.locator('.histograms[data-service="dashboard"] .chart canvas')
                expect(charts.first).to_be_visible()
                page.screenshot(path=str(ARTIFACTS / "latency.png"), full_page=True)
                assert errors == []
        finally:
            stop(d.proc)
