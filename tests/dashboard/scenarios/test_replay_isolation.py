"""dashboard.scenarios.replay_isolation: an admin runs scenario 7 from the page's API next to five live
services: the replay (scalperctl's, the strategy's engine) runs sandboxed, its report and equity picture
are shown, and the isolation is proved against the live platform."""

from __future__ import annotations

import pytest
import redis

from common import constants as c
from tests.browser import chromium, needs_chromium
from tests.dashboard.conftest import Dashboard, dashboard_up, logged_in_context
from tests.support import wait_until

pytestmark = pytest.mark.platform


def _replay(cluster, **form: str) -> tuple[Dashboard, object, dict]:
    """The dashboard, an admin session and the finished replay-isolation run started with `form`."""
    d = Dashboard(cluster.base, cluster.env, cluster.procs["dashboard"])
    wait_until(lambda: dashboard_up(d.base), timeout=30, interval=0.2, what="dashboard /healthz")
    admin = d.session()
    r = admin.post("/api/scenarios/replay-isolation/run", data=form, headers={"X-CSRF-Token": d.csrf(admin)})
    assert r.status_code == 200, r.text
    run_id = r.json()["run_id"]

    def finished() -> dict | None:
        run = next(x for x in admin.get("/api/scenarios").json()["runs"] if x["run_id"] == run_id)
        return run if run["status"] != "RUNNING" else None

    return d, admin, wait_until(finished, timeout=300, interval=0.5, what="the replay-isolation run")


def test_a_replay_runs_sandboxed_beside_the_live_platform_and_leaves_it_untouched(cluster):
    _, admin, done = _replay(cluster, seed="3", minutes="2")
    run_id = done["run_id"]
    assert done["status"] == "GREEN", (done["errors"], [(s["name"], s["outcome"], s["detail"]) for s in done["steps"]])
    assert done["params"] == {"seed": "3", "minutes": "2", "profile": "", "recording": ""}
    _, started, replayed, proof = (s["detail"] for s in done["steps"])
    assert started.startswith("scalperctl replay of seed 3, 2 min of generated market, profile "), started
    assert "sandbox limits (AS 1536 MB, CPU 300 s, nice +10, OOM score +1000): RLIMIT_AS applied, " \
           "RLIMIT_CPU applied, nice applied, oom_score_adj applied" in replayed, replayed
    assert "(no Redis URL, no credential)" in proof and "none stamped in the replay's market time" in proof, proof
    assert "5 services GREEN, no restart" in proof, proof
    assert done["report"]["trades"] == str(int(done["figures"]["replay_trades"]))
    assert done["report"]["source"] == '{"minutes": 2.0, "seed": 3, "step_ms": 100}'
    assert done["report"]["symbols"] == '["BTCUSDT", "ETHUSDT", "SOLUSDT"]'
    assert done["figures"]["replay_entries_on_live_streams"] == 0
    assert {"equity.png", "report.json", "trades.json", "sandbox.json"} <= set(done["files"])
    png = admin.get(f"/api/scenarios/runs/{run_id}/files/equity.png")
    assert png.status_code == 200 and png.content.startswith(b"\x89PNG")
    box = admin.get(f"/api/scenarios/runs/{run_id}/files/sandbox.json").json()
    assert not [k for k in box["env"] if "REDIS" in k or "BYBIT" in k], box["env"]
    assert box["cmd"][1:3] == ["replay", "--out"]
    page = admin.get("/scenarios").text
    assert f'src="/api/scenarios/runs/{run_id}/files/equity.png"' in page and 'data-report="pnl_net_usdt"' in page
    hb = redis.Redis.from_url(cluster.env["REDIS_URL"])
    try:
        assert not [k for k in hb.keys(c.PREFIX + "*") if b"replay" in k]
    finally:
        hb.close()


@needs_chromium
def test_the_page_draws_a_replay_run_with_its_picture_and_no_script_error(cluster):
    from playwright.sync_api import expect

    d, _, done = _replay(cluster, minutes="1")
    assert done["status"] == "GREEN", done["errors"]
    problems: list[str] = []
    with chromium() as browser:
        page = logged_in_context(browser, d.base, problems).new_page()
        page.set_viewport_size({"width": 390, "height": 844})
        page.goto(d.base + "/scenarios")
        expect(page.locator("#live")).to_have_text("live updates: on", timeout=15_000)  # the runs redrawn by JS
        run = page.locator(f'#runs div.run[data-run="{done["run_id"]}"]')
        expect(run.locator("img.equity")).to_be_visible(timeout=15_000)
        expect(run.locator('span[data-figure="replay_trades"]')).to_be_visible()
        expect(run.locator('span[data-report="pnl_net_usdt"]')).to_be_visible()
        assert run.locator("img.equity").evaluate("i => i.naturalWidth > 0 && i.clientWidth <= 390")
        assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0  # nothing sideways
    assert problems == []
