"""/v5/market/instruments-info's Struct: a recorded reply decodes, also with fields Bybit may add."""

from __future__ import annotations

import msgspec
import pytest

from common.bybit.schemas.envelope import Envelope, Paged
from common.bybit.schemas.instrument import InstrumentInfo
from tests.common.bybit.recorded import frame, with_new_fields

pytestmark = pytest.mark.unit

_reply = msgspec.json.Decoder(Envelope[Paged[InstrumentInfo]])


def test_the_instruments_reply_decodes_its_filters():
    info = _reply.decode(frame("rest_instruments.json")).result.list[0]
    assert (info.priceFilter.tickSize, info.lotSizeFilter.qtyStep, info.lotSizeFilter.minNotionalValue) == (
        "0.10", "0.001", "5")


def test_a_reply_with_fields_bybit_adds_decodes_the_same():
    raw = frame("rest_instruments.json")
    assert _reply.decode(with_new_fields(raw)) == _reply.decode(raw)
