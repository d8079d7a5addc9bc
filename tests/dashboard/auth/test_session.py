"""dashboard.auth.session: the session key is made once, mode 0600, written whole or not at all; a key
file that is empty or short, or a SESSION_SECRET under 32 bytes, stops the dashboard at start with exit
78 naming it."""

from __future__ import annotations

import subprocess

import pytest

from tests.dashboard.conftest import ADMIN_HASH
from tests.support import VENV_BIN, service_env

pytestmark = pytest.mark.service


def _start(redis_url: str, tmp_path, **extra: str) -> subprocess.CompletedProcess:
    """`scalper-dashboard` run to its end (here: its config error)."""
    env = service_env(redis_url, DATA_DIR=str(tmp_path), ADMIN_PASSWORD_HASH=ADMIN_HASH, **extra)
    return subprocess.run([str(VENV_BIN / "scalper-dashboard")], env=env, capture_output=True, text=True,
                          timeout=60, check=False)


def test_a_short_session_secret_is_refused_with_exit_78_naming_it(redis_url, tmp_path):
    r = _start(redis_url, tmp_path, SESSION_SECRET="only-twenty-chars-ab")
    assert r.returncode == 78 and "SESSION_SECRET" in r.stderr and "only-twenty" not in r.stderr


@pytest.mark.parametrize("left", ["", "short\n"])
def test_an_empty_or_short_key_file_is_refused_with_exit_78_naming_it(redis_url, tmp_path, left):
    (tmp_path / "session.key").write_text(left)  # what a crash halfway through a non-atomic write leaves
    r = _start(redis_url, tmp_path)
    assert r.returncode == 78 and "session.key" in r.stderr, r.stderr[-500:]


def test_the_key_is_made_once_with_mode_0600_and_no_temporary_file_left(tmp_path):
    from common.config import Settings
    from dashboard.auth.session import session_secret

    settings = Settings(_env_file=None, data_dir=tmp_path)
    key = session_secret(settings)
    assert len(key) >= 32 and session_secret(settings) == key
    assert (tmp_path / "session.key").stat().st_mode & 0o777 == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["session.key"]
