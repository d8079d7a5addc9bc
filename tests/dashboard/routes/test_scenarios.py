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
