"""Heartbeats out, and the one rule that turns heartbeats into GREEN / YELLOW / RED.

A service publishes a Heartbeat every second to `sys.health` and to a TTL key. Readers (the
dashboard's monitor, `scalperctl status`) classify with `classify()`, so both agree.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from common import constants as c
from common.schemas import Heartbeat, Status


@dataclass
class Progress:
    """Proof that a critical task is making progress: it calls beat(); the watchdog reads age()."""

    name: str
    last: float = field(default_factory=time.monotonic)

    def beat(self) -> None:
        self.last = time.monotonic()

    def age(self) -> float:
        return time.monotonic() - self.last


@dataclass
class HealthState:
    """What a service says about itself in its next heartbeat."""

    status: Status = Status.GREEN
    reason: str = ""
    last_error: str = ""
    details: dict[str, str] = field(default_factory=dict)

    def set(self, status: Status, reason: str = "") -> None:
        self.status, self.reason = status, reason


def classify(hb: Heartbeat | None, *, now_ns: int, down_after_s: float = c.SERVICE_DOWN_AFTER_S) -> tuple[Status, str]:
    """A service's status as seen from outside: RED when its heartbeats stopped."""
    if hb is None:
        return Status.RED, "no heartbeat"
    age = (now_ns - hb.ts_ns) / 1e9
    if age > down_after_s:
        return Status.RED, f"SERVICE_DOWN: last heartbeat {age:.1f} s ago"
    return hb.status, hb.reason
