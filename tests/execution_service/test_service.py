"""The execution service's wiring: a private frame that does not decode is parked, with an alert."""

from __future__ import annotations

import pytest
import redis

from common import constants as c
from common.bus import Bus
from common.schemas import Alert, DeadLetter, Severity, decode
from execution_service.service import dead_letter

pytestmark = pytest.mark.service


async def test_an_undecodable_private_frame_goes_to_the_dlq_with_an_alert(redis_url):
    url, raw = "ws://sim/v5/private", b'{"topic":"wallet","id":"1","creationTime":1,"data":[{}]}'
    bus = Bus(redis_url, service=c.EXECUTION)
    try:
        await dead_letter(bus, url, raw.decode(), "undecodable Bybit frame: Object missing required field")
    finally:
        await bus.close()
    r = redis.Redis.from_url(redis_url)
    [(_, letter)] = r.xrange(c.SYS_DLQ)
    [(_, alert)] = r.xrange(c.SYS_ALERTS)
    letter, alert = decode(letter[c.PAYLOAD_FIELD]), decode(alert[c.PAYLOAD_FIELD])
    assert isinstance(letter, DeadLetter) and letter.raw == raw and letter.stream == url
    assert letter.consumer == c.EXECUTION and "missing required field" in letter.error
    assert isinstance(alert, Alert) and alert.key == c.dlq_alert_key(url) and alert.severity is Severity.WARN
