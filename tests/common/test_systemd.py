"""sd_notify without systemd: a no-op without NOTIFY_SOCKET, one datagram with it, WATCHDOG_PID respected."""

from __future__ import annotations

import os
import socket
import uuid

import pytest

from common.systemd import notify, watchdog_interval_s

pytestmark = pytest.mark.unit


def test_notify_without_systemd_does_nothing(monkeypatch):
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    assert notify("READY=1") is False


def test_notify_sends_one_datagram_also_to_an_abstract_socket(monkeypatch):
    name = f"scalper-test-{uuid.uuid4().hex}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        monkeypatch.setenv("NOTIFY_SOCKET", "@" + name)
        assert notify("READY=1", "STATUS=running") is True
        assert sock.recv(4096) == b"READY=1\nSTATUS=running"


def test_notify_to_a_vanished_socket_is_not_an_error(monkeypatch, tmp_path):
    monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "gone"))
    assert notify("WATCHDOG=1") is False


def test_watchdog_interval_is_half_of_watchdog_usec_for_this_pid_only(monkeypatch):
    monkeypatch.delenv("WATCHDOG_USEC", raising=False)
    monkeypatch.delenv("WATCHDOG_PID", raising=False)
    assert watchdog_interval_s() is None
    monkeypatch.setenv("WATCHDOG_USEC", "20000000")
    assert watchdog_interval_s() == 10.0
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid()))
    assert watchdog_interval_s() == 10.0
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid() + 1))  # meant for another process (a parent)
    assert watchdog_interval_s() is None


def test_a_supervisor_is_claimed_only_when_the_parent_is_it(monkeypatch):
    """An environment inherited from a supervisor (a test run inside a systemd unit) is not proof."""
    from common.systemd import supervisor

    for name in ("NOTIFY_SOCKET", "SUPERVISOR_ENABLED"):
        monkeypatch.delenv(name, raising=False)
    assert supervisor() == ""
    monkeypatch.setenv("NOTIFY_SOCKET", "/run/systemd/notify")
    monkeypatch.setenv("SUPERVISOR_ENABLED", "1")
    assert supervisor() == ""  # our parent is pytest's shell, neither PID 1 nor supervisord
    monkeypatch.setattr(os, "getppid", lambda: 1)
    assert supervisor() == "systemd"
