"""The `tickers.{symbol}` topic's Struct: a recorded snapshot decodes."""

from __future__ import annotations

import pytest

from common.bybit.ws import parse
from tests.common.bybit.recorded import frame

pytestmark = pytest.mark.unit


def test_a_ticker_snapshot_decodes():
    ticker = parse(frame("ticker_snapshot.json")).data
    assert (ticker.symbol, ticker.lastPrice, ticker.bid1Price, ticker.fundingRate) == (
        "BTCUSDT", "17216.00", "17215.50", "-0.000212")
