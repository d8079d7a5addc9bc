"""JSON log lines and the one GREEN / YELLOW / RED rule that readers of heartbeats share."""

from __future__ import annotations

import io
import json
import logging

import pytest

from common import logs
from common.health import Progress, classify
from common.schemas import Heartbeat, Status

NOW = 1_000_000_000_000


@pytest.fixture
def captured():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.JsonFormatter("worker"))
    logger = logging.getLogger("test.logs")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield stream
    logger.removeHandler(handler)


def test_a_log_line_is_one_json_object_with_context(captured):
    logging.getLogger("test.logs").info("started", extra={"ctx": {"port": 9105, "event": "clash"}})
    line = json.loads(captured.getvalue())
    assert line["event"] == "started" and line["service"] == "worker" and line["level"] == "INFO"
    assert line["port"] == 9105 and line["ctx_event"] == "clash"  # context never overwrites the envelope
    assert line["ts"].endswith("Z")


def test_an_exception_stays_inside_its_line(captured):
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        logging.getLogger("test.logs").exception("failed")
    lines = captured.getvalue().splitlines()
    assert len(lines) == 1 and "RuntimeError: boom" in json.loads(lines[0])["exc"]


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
