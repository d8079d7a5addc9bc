"""dashboard.routes.jobs: the jobs page and /api/jobs show what a real worker records (schedules, next
runs, runs, retention policies, backups); "run now" is refused while the worker is down and otherwise
runs the job through the worker, audited; in Chromium a click shows the new run without a reload."""

from __future__ import annotations

import json

import pytest

from tests.browser import ARTIFACTS, needs_chromium
from tests.dashboard.conftest import live_page
from tests.support import wait_until

pytestmark = pytest.mark.service


def _run_of(admin, job: str, command_id: str) -> dict | None:
    runs = next(j for j in admin.get("/api/jobs").json()["jobs"] if j["name"] == job)["history"]
    return next((r for r in runs if r["trigger"] == command_id and r["outcome"] != "running"), None)


def test_run_now_runs_the_job_through_the_worker_and_the_page_shows_it(dashboard, worker, tmp_path):
    admin = dashboard.session()
    token = {"X-CSRF-Token": dashboard.csrf(admin)}
    before = admin.get("/api/jobs").json()
    assert [(j["name"], j["registered"], j["history"]) for j in before["jobs"]] == [
        ("retention", False, []), ("profile", False, []), ("backup", False, []), ("cleanup", False, [])]
    refused = admin.post("/api/jobs/backup/run", headers=token)
    assert refused.status_code == 409 and "the worker is not running" in refused.json()["detail"]
    assert admin.post("/api/jobs/nope/run", headers=token).status_code == 404

    worker()
    listed = admin.get("/api/jobs").json()
    assert all(j["registered"] and j["schedule"] and j["next_run_ts"] for j in listed["jobs"])
    assert listed["worker_refusal"] == "" and listed["backups"] == []
    policies = {p["key"]: p for p in listed["policies"]}
    assert policies["RETENTION_MARKET_H"]["unit"] == "hours" and "market.trades" in policies[
        "RETENTION_MARKET_H"]["applies_to"]

    sent = admin.post("/api/jobs/backup/run", headers=token).json()
    assert sent["command"] == "run_job" and sent["job"] == "backup"
    run = wait_until(lambda: _run_of(admin, "backup", sent["command_id"]), timeout=120, interval=0.5,
                     what="the backup run asked for from the dashboard")
    assert run["outcome"] == "ok" and run["bytes"] > 0 and run["end_ts"] >= run["start_ts"]
    [backup] = admin.get("/api/jobs").json()["backups"]
    assert backup["id"] == run["detail"]["id"] and backup["size"] == run["bytes"] and backup["verified_ts"]
    job = next(j for j in admin.get("/api/jobs").json()["jobs"] if j["name"] == "backup")
    assert job["runs"] == 1 and job["failures"] == 0 and job["last_success_ts"] == run["end_ts"]

    page = admin.get("/jobs").text
    assert f'data-run="{run["run_id"]}"' in page and f'data-backup="{backup["id"]}"' in page
    assert 'action="/api/jobs/cleanup/run"' in page and 'data-policy="RETENTION_LOG_DAYS"' in page
    audit = [json.loads(line) for line in (tmp_path / "data" / "audit.jsonl").read_text().splitlines()]
    assert [(a["action"], a["outcome"]) for a in audit if a["action"].startswith("run job")] == [
        ("run job backup", "refused"), ("run job backup", "ok")]


@needs_chromium
def test_a_run_now_click_shows_the_new_run_without_reload(dashboard, worker, admin_browser):
    from playwright.sync_api import expect

    context, problems = admin_browser
    worker()
    page = live_page(context, dashboard.base + "/jobs")
    expect(page.locator('#jobs tr[data-job="cleanup"] td.schedule')).not_to_have_text("no worker yet")
    expect(page.locator("#no-runs-cleanup")).to_be_visible()
    page.evaluate("window.notReloaded = true")
    page.click('#jobs button[data-job="cleanup"]')
    expect(page.locator("#run-result")).to_contain_text("run_job cleanup sent (command ")
    command_id = page.locator("#run-result").inner_text().split("command ")[1].rstrip(")")
    run = page.locator("#runs-cleanup tbody tr")
    expect(run).to_have_count(1, timeout=30_000)
    expect(run.locator("td.trigger")).to_have_text(command_id)
    expect(run.locator("td.outcome")).to_have_text("ok", timeout=30_000)
    expect(run.locator("td.counts")).to_contain_text("tmp_files_removed=0")
    expect(page.locator('#jobs tr[data-job="cleanup"] td.runs')).to_have_text("1")
    assert page.evaluate("window.notReloaded") is True
    page.screenshot(path=str(ARTIFACTS / "jobs-run-now.png"))
    assert problems == []
