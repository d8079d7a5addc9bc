"""sd_notify without libsystemd: one datagram to $NOTIFY_SOCKET, a no-op when it is not set; and which
supervisor, if any, would start the process again.

The same service code runs under systemd (Type=notify), under supervisor and in tests.
"""

from __future__ import annotations

import os
import socket


def notify(*lines: str) -> bool:
    """Send e.g. notify("READY=1", "STATUS=running"); returns False when there is no systemd."""
    addr = os.environ.get("NOTIFY_SOCKET")
    if not addr:
        return False
    if addr.startswith("@"):  # abstract namespace
        addr = "\0" + addr[1:]
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
        try:
            sock.sendto("\n".join(lines).encode(), addr)
        except OSError:
            return False
    return True


def supervisor() -> str:
    """Who starts this process again when it exits: what makes a restart-by-stopping safe to offer.

    The environment alone is not proof (a test run inside a systemd unit inherits NOTIFY_SOCKET), so
    the parent must be the supervisor itself: PID 1 for systemd's system services, supervisord's own
    process for `make run`.
    """
    parent = os.getppid()
    if os.environ.get("NOTIFY_SOCKET") and parent == 1:
        return "systemd"
    if os.environ.get("SUPERVISOR_ENABLED") and "supervisord" in _cmdline(parent):
        return "supervisord"
    return ""


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def watchdog_interval_s() -> float | None:
    """Half of WatchdogSec (what systemd recommends pinging at), or None without a watchdog."""
    usec = os.environ.get("WATCHDOG_USEC")
    pid = os.environ.get("WATCHDOG_PID")
    if not usec or (pid and int(pid) != os.getpid()):
        return None
    return int(usec) / 2_000_000
