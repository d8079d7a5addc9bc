"""The one GREEN / YELLOW / RED rule that readers of heartbeats share, and task progress."""

from __future__ import annotations

import pytest

from common.health import Progress, classify
from common.schemas import Heartbeat, Status

pytestmark = pytest.mark.unit

NOW = 1_000_000_000_000


def heartbeat(ts_ns: int, status: Status = Status.GREEN) -> Heartbeat:
    return Heartbeat(service="market", cluster="c", pid=1, start_ts_ns=0, ts_ns=ts_ns, version="1",
                     status=status, reason="why")


def test_classify():
    assert classify(None, now_ns=NOW) == (Status.RED, "no heartbeat")
    assert classify(heartbeat(NOW - 1_000_000_000), now_ns=NOW) == (Status.GREEN, "why")
    assert classify(heartbeat(NOW, Status.YELLOW), now_ns=NOW) == (Status.YELLOW, "why")
    status, reason = classify(heartbeat(NOW - 4_000_000_000), now_ns=NOW)
    assert status is Status.RED and reason.startswith("SERVICE_DOWN")


def test_progress_age_restarts_on_beat():
    p = Progress("task")
    p.last -= 60
    assert p.age() >= 60
    p.beat()
    assert p.age() < 1
