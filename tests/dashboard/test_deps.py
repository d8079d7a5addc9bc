"""dashboard.deps: an action needs the session's CSRF token (header or form field) and is audited; a viewer
reads every page but acts on nothing, and a removed user's session stops at once; open local mode reads
without login and refuses every action."""

from __future__ import annotations

import json
import subprocess

import pytest
import redis

from common import constants as c
from tests.dashboard.conftest import ACTIONS, ADMIN, PAGES, VIEWER
from tests.support import VENV_BIN

pytestmark = pytest.mark.service


def test_actions_need_the_csrf_token_and_are_audited(dashboard, redis_url, tmp_path):
    cl = dashboard.session()
    assert cl.post("/api/safe-mode/on").status_code == 403
    assert cl.post("/api/safe-mode/on", headers={"X-CSRF-Token": "wrong"}).status_code == 403
    r = cl.post("/api/safe-mode/on", headers={"X-CSRF-Token": dashboard.csrf(cl)})
    assert r.status_code == 200, r.text
    rd = redis.Redis.from_url(redis_url)
    assert rd.get(c.SAFE_MODE_KEY) == b"1"
    assert len(rd.xrange(c.SYS_CONTROL)) == 1
    # the same through the page's form (field instead of header) comes back to the page
    r = cl.post("/api/safe-mode/off", data={"csrf": dashboard.csrf(cl)}, headers={"Accept": "text/html"})
    assert r.status_code == 303 and r.headers["location"] == "/safe-mode"
    assert rd.get(c.SAFE_MODE_KEY) == b"0"
    audit = [json.loads(line) for line in (tmp_path / "data" / "audit.jsonl").read_text().splitlines()]
    assert [(a["action"], a["outcome"]) for a in audit if a["action"] != "login"] == [
        ("POST /api/safe-mode/on", "refused"),
        ("POST /api/safe-mode/on", "refused"),
        ("safe_mode_on", "ok"),
        ("safe_mode_off", "ok"),
    ]
    assert all(a["user"] == ADMIN for a in audit)


def test_a_viewer_reads_but_cannot_act(dashboard, tmp_path):
    v = dashboard.viewer()
    for path in PAGES:
        assert v.get(path).status_code == 200, path
    assert "enter safe mode" not in v.get("/safe-mode").text
    token = dashboard.csrf(v)
    for path in ACTIONS:
        r = v.post(path, headers={"X-CSRF-Token": token})
        assert r.status_code == 403 and r.json()["detail"] == "viewers cannot act", path
    # a removed user's session stops working at once
    rm = subprocess.run(
        [str(VENV_BIN / "scalperctl"), "user", "remove", VIEWER],
        env=dashboard.env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert rm.returncode == 0, rm.stderr
    assert v.get("/api/health").status_code == 401


def test_open_mode_reads_without_login_and_refuses_every_action(open_dashboard):
    anon = open_dashboard.client()
    assert len(anon.get("/api/health").json()["services"]) == 5
    for path in PAGES:
        page = anon.get(path)
        assert page.status_code == 200 and 'id="open-mode-banner"' in page.text, path
    assert "enter safe mode" not in anon.get("/safe-mode").text
    for path in ACTIONS:
        r = anon.post(path, headers={"X-CSRF-Token": "anything"})
        assert r.status_code == 403 and "configure an admin" in r.json()["detail"], path
    assert anon.post("/login", data={"username": "admin", "password": "x"}).status_code == 403
