"""The `execution` topic's Struct: decoding a recorded frame and the FillEvent it becomes."""

from __future__ import annotations

import pytest

from common.bybit.enums import ExecType
from common.bybit.ws import parse
from common.schemas import FillEvent
from tests.common.bybit.recorded import frame

pytestmark = pytest.mark.unit


def test_the_execution_topic_decodes():
    x = parse(frame("execution.json")).data[0]
    assert (x.execPrice, x.execType) == ("95900.1", ExecType.TRADE)


def test_an_execution_becomes_its_fill_event_stamped_with_bybits_time():
    x = parse(frame("execution.json")).data[0]
    assert x.to_fill_event(ts_ns=5) == FillEvent(
        exec_id="0ab1bdf7-4219-438b-b30a-32ec863018f7", order_link_id="",
        order_id="9aac161b-8ed6-450d-9cab-c5cc67c21784", symbol="BTCUSDT", side="Sell", price="95900.1",
        qty="0.5", fee="26.3725275", is_maker=False, exchange_ts_ns=1746270400353 * 1_000_000, ts_ns=5)
