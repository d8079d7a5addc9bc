"""dashboard.routes.profiles: the versions a real worker's profile job proposed, with diff and figures;
approve, reject and rollback from the dashboard carried out by the worker only when the version's status
allows (409 otherwise, audited); in Chromium, a proposal approved on the page is in force at the strategy's
next bar (the strategy a real process, fed bar by bar)."""

from __future__ import annotations

import json

import pytest

from common import constants as c
from common.schemas import Signal
from tests.browser import ARTIFACTS, needs_chromium
from tests.dashboard.conftest import live_page, stop
from tests.strategy_service.live import groups_ready, now_s_ms, publish, read
from tests.strategy_service.market import MS, path
from tests.support import service_env, start_service, wait_until
from tests.worker.harness import run_job, seed_trading

pytestmark = pytest.mark.service


def _versions(admin) -> dict[int, dict]:
    listed = admin.get("/api/profile/versions").json()["profiles"]
    return {v["version"]: v for v in listed.get("balanced", [])}


def _in_file(tmp_path) -> int:
    """The version of the profile file the worker wrote for the strategy."""
    text = (tmp_path / "data" / "profiles" / "balanced.toml").read_text()
    return int(next(line for line in text.splitlines() if line.startswith("version")).split("=")[1])


def _proposed(bus, worker, *, runs: int) -> None:
    """A worker that has proposed `runs` versions from the seeded fills."""
    seed_trading(bus)
    worker()
    for _ in range(runs):
        assert run_job(bus, c.JOB_PROFILE)["outcome"] == "ok"


def test_decisions_are_carried_out_by_the_worker_when_the_status_allows(dashboard, worker, bus, tmp_path):
    admin = dashboard.session()
    token = {"X-CSRF-Token": dashboard.csrf(admin)}
    _proposed(bus, worker, runs=2)
    versions = _versions(admin)
    assert {v: r["status"] for v, r in versions.items()} == {2: "applied", 3: "pending", 4: "pending"}
    assert versions[3]["diff"] == {"orders.sl_min_bps": [15.0, 18.75]} and versions[3]["base_version"] == 2
    assert versions[3]["figures"]["BTCUSDT"]["fills"] == 24

    def decide(version: int, decision: str):
        return admin.post(f"/api/profile/versions/balanced/{version}/{decision}", headers=token)

    sent = decide(3, "approve").json()
    assert sent["args"] == {"profile": "balanced", "version": "3", "decision": "approve"}
    wait_until(lambda: _versions(admin)[3]["status"] == "applied", timeout=10, what="version 3 applied")
    assert _in_file(tmp_path) == 3 and _versions(admin)[3]["decided_by"] == "dashboard:boss"
    refused = decide(3, "reject")
    assert refused.status_code == 409
    assert refused.json()["detail"] == "version 3 is applied: reject needs a pending one"
    assert decide(9, "approve").status_code == 404
    assert decide(4, "reject").status_code == 200
    wait_until(lambda: _versions(admin)[4]["status"] == "rejected", timeout=10, what="version 4 rejected")
    assert decide(2, "rollback").status_code == 200
    wait_until(lambda: _versions(admin)[2].get("decision") == "rollback", timeout=10, what="rollback to 2")
    assert _in_file(tmp_path) == 2

    page = admin.get("/profiles").text  # no strategy here: nothing is in force, both applied ones roll back
    assert 'action="/api/profile/versions/balanced/3/rollback"' in page
    assert 'action="/api/profile/versions/balanced/4/' not in page and "orders.sl_min_bps: 15 → 18.75" in page
    audit = [json.loads(line) for line in (tmp_path / "data" / "audit.jsonl").read_text().splitlines()]
    assert [(a["action"], a["outcome"]) for a in audit if a["action"].startswith("profile ")] == [
        ("profile approve balanced v3", "ok"), ("profile reject balanced v3", "refused"),
        ("profile reject balanced v4", "ok"), ("profile rollback balanced v2", "ok")]


@pytest.fixture
def strategy(redis_url, tmp_path, bus):
    """The strategy as a process on the dashboard's Redis and DATA_DIR (where the worker writes profiles)."""
    proc = start_service("strategy", service_env(redis_url, DATA_DIR=str(tmp_path / "data")),
                         tmp_path / "strategy.log")
    wait_until(lambda: groups_ready(bus), timeout=30, interval=0.1, what="strategy consumer groups")
    yield proc
    stop(proc)


@needs_chromium
def test_a_proposal_approved_on_the_page_is_in_force_at_the_next_bar(dashboard, worker, strategy, bus,
                                                                    admin_browser):
    from playwright.sync_api import expect

    context, problems = admin_browser
    _proposed(bus, worker, runs=1)
    page = live_page(context, dashboard.base + "/profiles")
    expect(page.locator("#active-version")).to_have_text("2", timeout=15_000)
    proposal = page.locator('tr[data-version="3"]')
    expect(proposal.locator("td.status")).to_have_text("pending")
    expect(proposal.locator("td.diff")).to_have_text("orders.sl_min_bps: 15 → 18.75")
    expect(page.locator('tr[data-version="2"] td.version')).to_have_text("2 (in force)")

    t0 = now_s_ms()
    msgs = path("BTCUSDT", start_ms=t0)
    switch_ms = t0 + 44_000
    publish(bus, [m for m in msgs if m.exchange_ts_ns < switch_ms * MS])  # bars up to t0 + 43 s under v2
    with page.expect_navigation():  # a form post, back to the page
        proposal.locator('button[data-decision="approve"]').click()
    expect(page.locator("#active-version")).to_have_text("3", timeout=15_000)
    expect(proposal.locator("td.version")).to_have_text("3 (in force)")
    expect(proposal.locator("td.status")).to_have_text("applied")
    expect(page.locator('tr[data-version="2"] button[data-decision="rollback"]')).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "profiles-approved.png"))

    publish(bus, [m for m in msgs if m.exchange_ts_ns >= switch_ms * MS])
    signs = {s.signal_id: (s.profile, s.profile_version) for s in read(bus, c.STRATEGY_SIGNALS, Signal)}
    assert signs[f"BTCUSDT-{switch_ms - 1000}"] == ("balanced", 2)
    assert signs[f"BTCUSDT-{switch_ms}"] == ("balanced", 3)
    assert problems == []
