"""The `kline.{interval}.{symbol}` topic's Struct: a recorded candle decodes."""

from __future__ import annotations

import pytest

from common.bybit.ws import parse
from tests.common.bybit.recorded import frame

pytestmark = pytest.mark.unit


def test_a_candle_decodes():
    kline = parse(frame("kline.json")).data[0]
    assert (kline.start, kline.close, kline.confirm) == (1672324800000, "16677", False)
