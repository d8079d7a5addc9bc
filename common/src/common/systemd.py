"""sd_notify without libsystemd: one datagram to $NOTIFY_SOCKET, a no-op when it is not set.

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


def watchdog_interval_s() -> float | None:
    """Half of WatchdogSec (what systemd recommends pinging at), or None without a watchdog."""
    usec = os.environ.get("WATCHDOG_USEC")
    pid = os.environ.get("WATCHDOG_PID")
    if not usec or (pid and int(pid) != os.getpid()):
        return None
    return int(usec) / 2_000_000
