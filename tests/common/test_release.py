"""common.lifecycle.release_commit: which release a process reports in its heartbeat: SCALPER_RELEASE
(make run), else the RELEASE file build-release.sh writes beside the release's venv, found through the
`current` symlink the units start from; nothing in a plain venv."""

from __future__ import annotations

import sys

import pytest

from common import lifecycle

pytestmark = pytest.mark.unit
COMMIT = "0123456789abcdef0123456789abcdef01234567"


@pytest.fixture
def host(tmp_path, monkeypatch):
    """/opt/scalper as the auto-update lays it out, and this process run from `current/venv`."""
    release = tmp_path / "releases" / COMMIT
    (release / "venv").mkdir(parents=True)
    (release / "RELEASE").write_text(COMMIT + "\n")
    (tmp_path / "current").symlink_to(release)
    monkeypatch.setattr(sys, "prefix", str(tmp_path / "current" / "venv"))
    monkeypatch.delenv(lifecycle.RELEASE_VAR, raising=False)
    return tmp_path


def test_a_deployed_release_is_read_from_its_release_dir(host):
    assert lifecycle.release_commit() == COMMIT


def test_the_variable_wins_over_the_file(host, monkeypatch):
    monkeypatch.setenv(lifecycle.RELEASE_VAR, "abc1234")
    assert lifecycle.release_commit() == "abc1234"


def test_a_plain_venv_reports_no_release(tmp_path, monkeypatch):
    monkeypatch.delenv(lifecycle.RELEASE_VAR, raising=False)
    monkeypatch.setattr(sys, "prefix", str(tmp_path / "venv"))
    assert lifecycle.release_commit() == ""
