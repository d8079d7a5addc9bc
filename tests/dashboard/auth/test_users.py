"""dashboard.auth.users: users through scalperctl (hash-password, user add/passwd/remove), the same table
the dashboard reads, and their changes in the dashboard's audit log (dashboard.auth.audit)."""

from __future__ import annotations

import json
import subprocess

import bcrypt
import pytest
from common.config import Settings
from dashboard.auth.audit import AUDIT_FILE
from dashboard.auth.users import Role, UserStore

from tests.support import VENV_BIN, service_env

pytestmark = pytest.mark.service


def _ctl(*args: str, stdin: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(VENV_BIN / "scalperctl"), *args],
        input=stdin,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_hash_password_prints_a_bcrypt_hash_the_settings_accept(redis_url):
    env = service_env(redis_url)
    r = _ctl("hash-password", stdin="a-long-Pa55word\n", env=env)
    assert r.returncode == 0, r.stderr
    hashed = r.stdout.strip()
    assert bcrypt.checkpw(b"a-long-Pa55word", hashed.encode())
    assert (
        Settings(_env_file=None, admin_password_hash=hashed).admin_password_hash.get_secret_value() == hashed
    )
    assert _ctl("hash-password", stdin="short\n", env=env).returncode == 2


def test_user_add_passwd_remove(redis_url, tmp_path):
    env = service_env(redis_url, DATA_DIR=str(tmp_path))
    assert _ctl("user", "add", "ann", "--role", "admin", stdin="first-Pa55word\n", env=env).returncode == 0
    again = _ctl("user", "add", "ann", stdin="first-Pa55word\n", env=env)
    assert again.returncode == 1 and "exists" in again.stderr
    store = UserStore(Settings(_env_file=None, data_dir=tmp_path))
    assert store.verify("ann", "first-Pa55word").role is Role.ADMIN
    assert _ctl("user", "passwd", "ann", stdin="second-Pa55word\n", env=env).returncode == 0
    assert store.verify("ann", "first-Pa55word") is None
    assert store.verify("ann", "second-Pa55word").name == "ann"
    assert "ann\tadmin" in _ctl("user", "list", stdin="", env=env).stdout
    assert _ctl("user", "remove", "ann", stdin="", env=env).returncode == 0
    assert store.get("ann") is None
    assert _ctl("user", "remove", "ann", stdin="", env=env).returncode == 1


def test_user_changes_from_the_cli_are_in_the_dashboards_audit_log(redis_url, tmp_path):
    env = service_env(redis_url, DATA_DIR=str(tmp_path), LOGNAME="ops-anna", USER="ops-anna")
    assert _ctl("user", "add", "bob", "--role", "admin", stdin="first-Pa55word\n", env=env).returncode == 0
    assert _ctl("user", "add", "bob", stdin="other-Pa55word\n", env=env).returncode == 1  # exists
    assert _ctl("user", "passwd", "bob", stdin="second-Pa55word\n", env=env).returncode == 0
    assert _ctl("user", "list", stdin="", env=env).returncode == 0  # a read: not audited
    assert _ctl("user", "remove", "bob", stdin="", env=env).returncode == 0
    text = (tmp_path / AUDIT_FILE).read_text()
    audit = [json.loads(line) for line in text.splitlines()]
    assert [(a["action"], a["outcome"]) for a in audit] == [
        ("user add bob (admin)", "ok"),
        ("user add bob (viewer)", "refused"),
        ("user passwd bob", "ok"),
        ("user remove bob", "ok"),
    ]
    assert {(a["user"], a["client"]) for a in audit} == {("ops-anna", "cli")}
    assert "exists" in audit[1]["detail"]
    assert not any(p in text for p in ("first-Pa55word", "other-Pa55word", "second-Pa55word"))
