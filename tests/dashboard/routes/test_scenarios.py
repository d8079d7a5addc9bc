"""dashboard.routes.scenarios: a viewer and a missing CSRF token cannot start a run, and nothing runs."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.service


def test_a_viewer_and_a_missing_csrf_token_are_refused(dashboard):
    viewer = dashboard.viewer()
    r = viewer.post("/api/scenarios/full-boot/run", headers={"X-CSRF-Token": dashboard.csrf(viewer)})
    assert r.status_code == 403 and r.json()["detail"] == "viewers cannot act"
    admin = dashboard.session()
    r = admin.post("/api/scenarios/full-boot/run")
    assert r.status_code == 403 and r.json()["detail"] == "CSRF token missing or wrong"
    assert 'action="/api/scenarios/full-boot/run"' not in viewer.get("/scenarios").text
    assert admin.get("/api/scenarios").json()["runs"] == []


def test_bad_replay_parameters_are_refused_naming_the_field_and_nothing_runs(dashboard):
    admin = dashboard.session()
    token = dashboard.csrf(admin)
    entry = next(s for s in admin.get("/api/scenarios").json()["scenarios"] if s["key"] == "replay-isolation")
    assert entry["params"] == {"seed": "1", "minutes": "5", "profile": "", "recording": ""}
    assert entry["choices"] == {"recording": []} and entry["refusal"] == ""
    for form, detail in (({"seed": "x"}, "seed: 'x' is not a whole number"),
                         ({"minutes": "0"}, "minutes: 0 is not between 0 and 240"),
                         ({"profile": "../etc"}, "profile: '../etc' is not a profile name"),
                         ({"recording": "none.jsonl"}, "recording: no 'none.jsonl' in DATA_DIR/recordings"),
                         ({"speed": "9"}, "unknown parameter(s) speed")):
        r = admin.post("/api/scenarios/replay-isolation/run", data=form, headers={"X-CSRF-Token": token})
        assert r.status_code == 400 and r.json()["detail"].startswith(detail), (form, r.text)
    r = admin.post("/api/scenarios/full-boot/run", data={"seed": "1"}, headers={"X-CSRF-Token": token})
    assert r.status_code == 400 and r.json()["detail"] == "full-boot takes no parameters, got seed"
    assert admin.get("/api/scenarios").json()["runs"] == []
    assert admin.get(f"/api/scenarios/runs/{'1' * 20}/files/equity.png").status_code == 404
    assert admin.get(f"/api/scenarios/runs/{'1' * 20}/files/..%2Fusers.db").status_code == 404


def test_deploy_is_offered_and_refused_outside_the_systemd_deployment(dashboard):
    admin = dashboard.session()
    catalogue = {s["key"]: s for s in admin.get("/api/scenarios").json()["scenarios"]}
    assert list(catalogue) == ["full-boot", "deploy", "market-crash", "private-ws-drop", "strategy-crash",
                               "rapid-fire", "replay-isolation"]
    refusal = catalogue["deploy"]["refusal"]
    assert refusal.startswith("deploy needs the systemd deployment (scalper-update, its timer and releases): "
                              "this dashboard is not run by systemd"), refusal
    r = admin.post("/api/scenarios/deploy/run", headers={"X-CSRF-Token": dashboard.csrf(admin)})
    assert r.status_code == 409 and r.json()["detail"] == refusal
    assert admin.get("/api/scenarios").json()["runs"] == []
    assert refusal in admin.get("/scenarios").text
