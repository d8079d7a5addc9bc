"""dashboard.routes.services: each service's process as its heartbeat reports it; the page's restart:
refused (409, audited) when nothing would start the service again or it is not running; the restart itself
is proven under supervisord (tests/platform) and systemd (tests/system)."""

from __future__ import annotations

import json

import pytest

from tests.support import wait_until

pytestmark = pytest.mark.service


def test_restart_is_refused_without_a_supervisor_or_a_process(dashboard, tmp_path):
    admin = dashboard.session()
    token = {"X-CSRF-Token": dashboard.csrf(admin)}

    def dashboard_seen() -> dict | None:
        rows = {s["name"]: s for s in admin.get("/api/services").json()["services"]}
        return rows["dashboard"] if rows["dashboard"]["status"] == "GREEN" else None

    row = wait_until(dashboard_seen, timeout=15, interval=0.2, what="the dashboard's own heartbeat")
    assert row["supervisor"] == "" and "runs under no supervisor" in row["restart_refusal"]
    assert row["process"]["rss_mb"] > 0 and row["process"]["cpu_s"] >= 0 and row["process"]["threads"] >= 1
    r = admin.post("/api/services/dashboard/restart", headers=token)
    assert r.status_code == 409 and "stopping it would leave it stopped" in r.json()["detail"]
    r = admin.post("/api/services/market/restart", headers=token)  # no market service in this test
    assert r.status_code == 409 and "market is not running" in r.json()["detail"]
    assert admin.post("/api/services/nope/restart", headers=token).status_code == 404
    page = admin.get("/services").text
    assert 'action="/api/services/dashboard/restart"' not in page and "no restart" in page
    assert dashboard.proc.poll() is None
    audit = [json.loads(line) for line in (tmp_path / "data" / "audit.jsonl").read_text().splitlines()]
    assert [(a["action"], a["outcome"]) for a in audit if a["action"].startswith("restart")] == [
        ("restart dashboard", "refused"), ("restart market", "refused")]
