"""dashboard.routes.deploys: the deploys page and /api/deploys show, for a logged-in operator, what the
auto-update recorded on the host (laid out here as deploy/autoupdate/scalper-update writes it: release
symlinks, history.jsonl lines, bad-commits) and which release each service reports in its heartbeat;
a new line shows without a restart; a host the auto-update never ran on says so plainly; the overview
names the last deploy and every page's header the running release."""

from __future__ import annotations


import pytest

from tests.dashboard.conftest import admin_env, start_dashboard, stop
from tests.support import wait_until

pytestmark = pytest.mark.service
OLD, NEW, BAD = "a" * 40, "b" * 40, "c" * 40
RELEASE = "1a2b3c4"  # what make run exports: the checkout's short commit


def record(state, *, ts: int, commit: str, frm: str, outcome: str, seconds: int, detail: str) -> None:
    """One line as scalper-update's record() prints it."""
    with (state / "history.jsonl").open("a") as f:
        f.write('{"ts": %d, "commit": "%s", "from": "%s", "outcome": "%s", "seconds": %d, "detail": "%s"}\n'
                % (ts, commit, frm, outcome, seconds, detail))


@pytest.fixture
def host(tmp_path):
    """/opt/scalper and the deploy state after a first deploy, a deploy, and a rolled-back commit."""
    opt, state = tmp_path / "opt", tmp_path / "deploy-state"
    for commit in (OLD, NEW):
        (opt / "releases" / commit).mkdir(parents=True)
    (opt / "current").symlink_to(opt / "releases" / NEW)
    (opt / "previous").symlink_to(opt / "releases" / OLD)
    state.mkdir()
    record(state, ts=1_764_000_000, commit=OLD, frm="", outcome="deployed", seconds=61,
           detail="five GREEN, execution NORMAL")
    record(state, ts=1_764_003_600, commit=NEW, frm=OLD, outcome="deployed", seconds=48,
           detail="five GREEN, execution NORMAL")
    record(state, ts=1_764_007_200, commit=BAD, frm=NEW, outcome="rolled-back", seconds=212,
           detail="not GREEN with execution NORMAL within 180 s; bbbbbbbbbbbb healthy")
    (state / "bad-commits").write_text(BAD + "\n")
    return opt, state


@pytest.fixture
def deployed(redis_url, tmp_path, telegram, host):
    """A dashboard with the admin, reading `host`, reporting RELEASE as its release."""
    opt, state = host
    d = start_dashboard(redis_url, tmp_path, **admin_env(telegram), DEPLOY_OPT_DIR=str(opt),
                        DEPLOY_STATE_DIR=str(state), SCALPER_RELEASE=RELEASE)
    yield d
    stop(d.proc)


def test_the_history_releases_and_running_versions_as_recorded(deployed, host):
    _, state = host
    admin = deployed.session()
    assert deployed.client().get("/api/deploys").status_code == 401  # behind the login like every page

    def dashboard_release() -> dict | None:
        return admin.get("/api/deploys").json()["running"].get("dashboard")

    running = wait_until(dashboard_release, timeout=15, interval=0.2, what="the dashboard's own heartbeat")
    assert running["release"] == RELEASE and running["label"].endswith(f" @ {RELEASE}")
    services = {s["name"]: s for s in admin.get("/api/services").json()["services"]}
    assert services["dashboard"]["running"] == running["label"] and running["label"] in admin.get("/services").text
    d = admin.get("/api/deploys").json()
    assert d["no_data"] is None and (d["current"], d["previous"], d["not_retried"]) == (NEW, OLD, [BAD])
    assert [(e["commit"], e["from"], e["outcome"], e["kind"]) for e in d["history"]] == [
        (BAD, NEW, "rolled-back", "failed"), (NEW, OLD, "deployed", "ok"), (OLD, "", "deployed", "ok")]
    newest = d["history"][0]
    assert newest["display"] == {"when": "2025-11-24 18:00:00", "took": "3 min 32 s", "commit": "c" * 12,
                                 "from": "b" * 12}
    assert admin.get("/api/deploys", params={"limit": 1}).json()["history"] == [newest]
    assert admin.get("/api/deploys", params={"limit": 0}).status_code == 422

    page = admin.get("/deploys").text
    assert 'id="current" title="' + NEW + '">' + "b" * 12 in page and "rolled-back" in page
    assert f"{running['label']}</a>" in page  # the header's release badge, on every page
    assert "within 180 s" in admin.get("/").text

    record(state, ts=1_764_010_800, commit=OLD, frm=NEW, outcome="rollback", seconds=30,
           detail="by an operator; healthy")
    last = admin.get("/api/overview").json()["deploy"]
    assert (last["commit"], last["outcome"], last["kind"]) == (OLD, "rollback", "warn")
    assert admin.get("/api/deploys").json()["history"][0]["detail"] == "by an operator; healthy"


def test_a_host_without_the_auto_update_says_so(redis_url, tmp_path, telegram):
    d = start_dashboard(redis_url, tmp_path, **admin_env(telegram), DEPLOY_STATE_DIR=str(tmp_path / "none"),
                        DEPLOY_OPT_DIR=str(tmp_path / "none"))
    try:
        admin = d.session()
        view = admin.get("/api/deploys").json()
        assert "no deploy history" in view["no_data"] and "make run" in view["no_data"]
        assert (view["current"], view["history"], view["not_retried"]) == (None, [], [])
        assert "no deploy history" in admin.get("/api/overview").json()["deploy"]["no_data"]
        page = admin.get("/deploys").text
        assert 'id="history" hidden' in page and "nothing is deployed" in page
    finally:
        stop(d.proc)
