"""The `orderbook.{depth}.{symbol}` topic's Struct: a recorded snapshot and delta decode, prices as sent."""

from __future__ import annotations

import pytest

from common.bybit.enums import BookMsgType
from common.bybit.schemas.envelope import PublicMsg
from common.bybit.schemas.orderbook import OrderbookData
from common.bybit.ws import parse
from tests.common.bybit.recorded import frame

pytestmark = pytest.mark.unit


def test_orderbook_snapshot_and_delta():
    snap = parse(frame("orderbook_snapshot.json"))
    assert isinstance(snap, PublicMsg) and isinstance(snap.data, OrderbookData)
    assert (snap.type, snap.data.s, snap.data.u, snap.cts) == (
        BookMsgType.SNAPSHOT, "BTCUSDT", 18521288, 1672304484976)
    assert snap.data.b[0] == ("16493.50", "0.006")  # strings keep the tick's trailing zeros
    delta = parse(frame("orderbook_delta.json"))
    assert delta.type == BookMsgType.DELTA and delta.data.b[0] == ("16493.50", "0")
