"""The `publicTrade` topic's Struct: decoding a recorded frame and the Trade it becomes on `market.trades`."""

from __future__ import annotations

import pytest

from common.bybit.enums import Side
from common.bybit.ws import parse
from common.schemas import Trade
from tests.common.bybit.recorded import frame

pytestmark = pytest.mark.unit


def test_the_public_trade_topic_decodes():
    trade = parse(frame("public_trade.json")).data[0]
    assert (trade.S, trade.p, trade.v, trade.L, trade.BT) == (Side.BUY, "16578.50", "0.001", "PlusTick", False)


def test_a_public_trade_becomes_its_bus_message_with_prices_as_sent():
    trade = parse(frame("public_trade.json")).data[0]
    assert trade.to_trade(received_ts_ns=9, published_ts_ns=10) == Trade(
        symbol=trade.s, trade_id=trade.i, side="Buy", price="16578.50", size="0.001",
        exchange_ts_ns=trade.T * 1_000_000, received_ts_ns=9, published_ts_ns=10)
