"""JSON log lines: one object per line, with context; an exception stays inside its line."""

from __future__ import annotations

import io
import json
import logging

import pytest

from common import logs

pytestmark = pytest.mark.unit


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
