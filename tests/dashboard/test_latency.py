"""The latency page scrapes each service's own Prometheus histograms (here: the dashboard's bus handlers)."""

from __future__ import annotations

from tests.dashboard.conftest import ADMIN, ADMIN_HASH, start_dashboard, stop
from tests.support import free_port, wait_until


def test_latency_shows_the_services_histograms_and_says_why_others_are_missing(redis_url, tmp_path):
    d = start_dashboard(
        redis_url,
        tmp_path,
        DASHBOARD_METRICS_PORT=str(free_port()),
        ADMIN_USERNAME=ADMIN,
        ADMIN_PASSWORD_HASH=ADMIN_HASH,
    )
    try:
        c = d.session()

        def handler_rows():
            own = c.get("/api/latency").json()["services"]["dashboard"]["histograms"]
            return [h for h in own if h["name"] == "scalper_bus_handler_seconds" and h["count"] >= 3]

        [row] = [
            h
            for h in wait_until(handler_rows, timeout=20, what="bus handler samples")
            if h["labels"].get("stream") == "sys.health"
        ]
        assert 0 < row["p50"] <= row["p90"] <= row["p99"]
        market = c.get("/api/latency").json()["services"]["market"]
        assert market["histograms"] == [] and "metrics port not fixed" in market["error"]
        page = c.get("/latency").text
        assert "scalper_bus_handler_seconds" in page and "stream=sys.health" in page
    finally:
        stop(d.proc)
