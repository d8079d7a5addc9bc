"""dashboard.routes.config: the config page: masked values, validation of the env file, hot reload, versions
with their diff."""

from __future__ import annotations

import pytest

from tests.dashboard.conftest import ADMIN, ADMIN_HASH, TOKEN, start_dashboard, stop

pytestmark = pytest.mark.service


def test_reload_validates_records_a_version_and_shows_the_diff(redis_url, tmp_path):
    env_file = tmp_path / "scalper.env"
    env_file.write_text(f"LOG_LEVEL=INFO\nTELEGRAM_BOT_TOKEN={TOKEN}\n")
    d = start_dashboard(
        redis_url,
        tmp_path,
        SCALPER_ENV_FILE=str(env_file),
        ADMIN_USERNAME=ADMIN,
        ADMIN_PASSWORD_HASH=ADMIN_HASH,
    )
    try:
        c = d.session()
        csrf = {"X-CSRF-Token": d.csrf(c)}
        env_file.write_text(f"LOG_LEVEL=DEBUG\nTELEGRAM_BOT_TOKEN={TOKEN}x\n")
        r = c.post("/api/config/reload", headers=csrf)
        assert r.status_code == 200 and r.json()["valid"] is True and "entry_id" in r.json()
        versions = c.get("/api/config/versions").json()["versions"]
        assert [v["version"] for v in versions] == [2, 1] and versions[0]["by"] == ADMIN
        assert versions[0]["changes"] == [["LOG_LEVEL", "INFO", "DEBUG"]]  # a secret's change stays masked
        page = c.get("/config").text
        assert "LOG_LEVEL" in page and "DEBUG" in page and TOKEN not in page

        env_file.write_text("LOG_LEVEL=LOUD\n")  # a bad file is reported by key and nothing is sent
        r = c.post("/api/config/reload", headers=csrf)
        assert r.json() == {"valid": False, "key": "LOG_LEVEL", "problem": r.json()["problem"]}
        assert "LOUD" in r.json()["problem"]
        assert len(c.get("/api/config/versions").json()["versions"]) == 2
        assert 'id="config-check" class="status-RED"' in c.get("/config").text
    finally:
        stop(d.proc)


def test_a_mistyped_key_is_named_but_its_value_never_shown(redis_url, tmp_path, bus):
    env_file = tmp_path / "scalper.env"
    env_file.write_text("LOG_LEVEL=INFO\n")
    d = start_dashboard(redis_url, tmp_path, SCALPER_ENV_FILE=str(env_file), ADMIN_USERNAME=ADMIN,
                        ADMIN_PASSWORD_HASH=ADMIN_HASH)
    leaked = "s3cr3t-value-typed-under-a-wrong-name"
    try:
        c = d.session()
        env_file.write_text(f"LOG_LEVEL=INFO\nBYBIT_API_SECRETT={leaked}\n")
        r = c.post("/api/config/reload", headers={"X-CSRF-Token": d.csrf(c)})
        assert r.json()["valid"] is False and r.json()["key"] == "BYBIT_API_SECRETT"
        shown = [r.text, c.get("/api/config").text, c.get("/config").text]
        c.post("/api/safe-mode/on", headers={"X-CSRF-Token": d.csrf(c)})  # every service reloads too
        bus.xadd("sys.control", {"d": b"not msgpack"})
        d.proc.terminate()
        d.proc.wait(timeout=20)
        shown += [(tmp_path / "dashboard.log").read_text(), (tmp_path / "data" / "audit.jsonl").read_text(),
                  str(bus.xrange("sys.alerts"))]
        assert not [text[:200] for text in shown if leaked in text]
    finally:
        stop(d.proc)
