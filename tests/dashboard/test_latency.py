"""The latency page scrapes each service's own Prometheus histograms (here: the dashboard's bus handlers and a
stand-in for execution's endpoint); the quantiles and per-bucket distributions it derives from them."""

from __future__ import annotations

from dashboard.latency_histograms import histograms, tick_to_order
from tests.dashboard.conftest import ADMIN, ADMIN_HASH, EXEC_EXPOSITION, fake_metrics, start_dashboard, stop
from tests.support import free_port, wait_until


def test_a_histograms_buckets_become_its_distribution_and_quantiles():
    [row] = histograms(EXEC_EXPOSITION)  # not the counter, nor the ack series without samples
    assert row["name"] == "scalper_exec_latency_seconds" and row["labels"] == {"stage": "tick_to_order"}
    assert row["count"] == 10
    assert row["buckets"] == [{"le": 0.001, "count": 3}, {"le": 0.01, "count": 0}, {"le": 0.1, "count": 6},
                              {"le": "+Inf", "count": 1}]
    assert (row["p50"], row["p90"], row["p99"]) == (0.1, 0.1, "+Inf")  # JSON has no infinity
    services = {"execution": {"error": "", "histograms": [row]}}
    assert tick_to_order(services) is row
    assert tick_to_order({"execution": {"error": "unreachable", "histograms": []}}) is None


def test_latency_shows_the_services_histograms_and_says_why_others_are_missing(redis_url, tmp_path):
    with fake_metrics(EXEC_EXPOSITION) as execution_port:
        d = start_dashboard(
            redis_url,
            tmp_path,
            DASHBOARD_METRICS_PORT=str(free_port()),
            EXECUTION_METRICS_PORT=str(execution_port),
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
    market = body["services"]["market"]
    assert market["histograms"] == [] and "metrics port not fixed" in market["error"]
    tick = body["tick_to_order"]
    assert tick["labels"] == {"stage": "tick_to_order"} and tick["count"] == 10 and tick["p99"] == "+Inf"
    assert [b["count"] for b in tick["buckets"]] == [3, 0, 6, 1]
    page = c.get("/latency").text
    assert "scalper_bus_handler_seconds" in page and "stream=sys.health" in page
    assert page.index('id="tick-to-order-chart"') < page.index('<table class="latency"')  # first on the page
    assert "count 10 &middot; p50 0.1 &middot; p90 0.1 &middot; p99 +Inf" in page
    for service in ("execution", "dashboard"):
        assert f'<div class="histograms" data-service="{service}">' in page
    assert '<script src="/static/latency.js" defer></script>' in page
