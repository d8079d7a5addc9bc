"""Real-process helpers for the common tests: a systemd notify socket, test apps, log reading."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

from tests.support import ROOT, wait_until


class NotifySocket:
    """What systemd listens on: a datagram socket at $NOTIFY_SOCKET; keeps (time, line) of each message."""

    def __init__(self) -> None:
        self._dir = tempfile.mkdtemp(prefix="sdn")  # short: AF_UNIX paths are limited to 107 bytes
        self.path = os.path.join(self._dir, "notify")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.settimeout(0.2)
        self.received: list[tuple[float, str]] = []
        self._closed = False
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        while not self._closed:
            try:
                data = self.sock.recv(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            now = time.monotonic()
            self.received.extend((now, line) for line in data.decode().splitlines())

    def lines(self) -> list[str]:
        return [line for _, line in list(self.received)]

    def times(self, line: str) -> list[float]:
        return [t for t, got in list(self.received) if got == line]

    def wait_for(self, predicate, *, timeout: float = 30, what: str) -> str:
        """Wait for a line matching `predicate`; returns it."""
        return wait_until(lambda: next((ln for ln in self.lines() if predicate(ln)), None),
                          timeout=timeout, what=what)

    def close(self) -> None:
        self._closed = True
        self._thread.join(timeout=2)
        self.sock.close()
        os.unlink(self.path)
        os.rmdir(self._dir)


@pytest.fixture
def notify_socket():
    ns = NotifySocket()
    yield ns
    ns.close()


def start_module(module: str, *args: str, env: dict[str, str], log_path: Path) -> subprocess.Popen:
    """Start a test app (`python -m tests.common.<module>`) from the repo root, logging to log_path."""
    with open(log_path, "ab") as log:  # the child keeps its own copy of the descriptor
        return subprocess.Popen([sys.executable, "-m", f"tests.common.{module}", *args], cwd=ROOT, env=env,
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def log_events(log_path: Path) -> list[dict]:
    """The JSON log lines a service wrote (other lines are skipped)."""
    events = []
    for line in log_path.read_text(errors="replace").splitlines():
        try:
            events.append(json.loads(line))
        except ValueError:
            continue
    return events


def stop(proc: subprocess.Popen, *, timeout: float = 30) -> int:
    """SIGTERM a process and wait for its exit code (kill -9 if it does not stop in time)."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise


@pytest.fixture
def procs():
    """Processes a test starts; any still running at the end are killed."""
    started: list[subprocess.Popen] = []
    yield started
    for p in started:
        if p.poll() is None:
            p.kill()
            p.wait()
