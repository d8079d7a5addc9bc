"""scalperctl deploy: status and history read the auto-update's symlinks and history file as it writes them."""

from __future__ import annotations

import json

import pytest

from scalperctl import deploy

pytestmark = pytest.mark.unit


@pytest.fixture
def host(tmp_path):
    """An /opt/scalper and a state dir after one deploy, one rollback and a torn last line."""
    opt, state = tmp_path / "opt", tmp_path / "state"
    (opt / "releases/aaa").mkdir(parents=True)
    (opt / "releases/bbb").mkdir()
    (opt / "current").symlink_to(opt / "releases/aaa")
    (opt / "previous").symlink_to(opt / "releases/bbb")
    state.mkdir()
    lines = [{"ts": 1, "commit": "aaa", "from": "", "outcome": "deployed", "seconds": 50, "detail": ""},
             {"ts": 2, "commit": "ccc", "from": "aaa", "outcome": "rolled-back", "seconds": 40, "detail": "x"}]
    (state / "history.jsonl").write_text("".join(json.dumps(e) + "\n" for e in lines) + '{"ts": 3, "comm')
    (state / "bad-commits").write_text("ccc\n")
    return opt, state


def test_status_names_current_previous_last_and_refused(host):
    opt, state = host
    view = deploy.status(opt_dir=opt, state_dir=state)
    assert view["current"] == "aaa" and view["previous"] == "bbb"
    assert view["last"]["outcome"] == "rolled-back" and view["not_retried"] == ["ccc"]


def test_history_is_newest_first_and_skips_a_torn_line(host):
    _, state = host
    assert [e["commit"] for e in deploy.history(state)] == ["ccc", "aaa"]


def test_a_host_never_deployed(tmp_path):
    view = deploy.status(opt_dir=tmp_path, state_dir=tmp_path)
    assert view == {"current": None, "previous": None, "last": None, "not_retried": []}


def test_cli_status_exit_code_follows_the_current_release(host, capsys):
    opt, state = host
    args = deploy_args(opt, state, "status", "--json")
    assert deploy.run(args) == 0
    assert json.loads(capsys.readouterr().out)["current"] == "aaa"
    assert deploy.run(deploy_args(state, state, "status")) == 1


def test_rollback_needs_root(host, capsys, monkeypatch):
    monkeypatch.setattr(deploy.os, "geteuid", lambda: 1000)
    assert deploy.run(deploy_args(*host, "rollback")) == 1
    assert "as root" in capsys.readouterr().out


def deploy_args(opt, state, *argv):
    from scalperctl.main import parser
    return parser().parse_args(["deploy", "--opt-dir", str(opt), "--state-dir", str(state), *argv])
