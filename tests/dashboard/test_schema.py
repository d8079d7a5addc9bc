"""schemathesis against the dashboard's OpenAPI schema, logged in as admin: no 5xx, responses match it."""

from __future__ import annotations

import subprocess

import redis
from common.schemas import ControlCommand, decode

from common import constants as c
from tests.support import VENV_BIN


def test_api_conforms_to_its_schema_with_a_session(dashboard, tmp_path, redis_url):
    s = dashboard.session()
    cookie = f"scalper_session={s.cookies['scalper_session']}"
    r = subprocess.run(
        [
            str(VENV_BIN / "schemathesis"),
            "run",
            f"{dashboard.base}/api/openapi.json",
            "-H",
            f"Cookie: {cookie}",
            "-H",
            f"X-CSRF-Token: {dashboard.csrf(s)}",
            "--checks",
            "not_a_server_error,response_schema_conformance,content_type_conformance",
            "--phases",
            "examples,coverage,fuzzing",
            "--max-examples",
            "15",
            "--seed",
            "1",
            "--exclude-path-regex",
            "/stream$",
            "--generation-database",
            "none",
        ],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=tmp_path,
        check=False,
    )
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]
    # the session and CSRF token reached the actions too, not only the reads
    commands = [decode(f[c.PAYLOAD_FIELD]) for _, f in redis.Redis.from_url(redis_url).xrange(c.SYS_CONTROL)]
    assert commands and all(
        isinstance(m, ControlCommand) and m.issued_by == "dashboard:boss" for m in commands
    )
