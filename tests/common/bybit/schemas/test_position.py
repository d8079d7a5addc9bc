"""The position Struct: the `position` topic and /v5/position/list decode, and both become the same
PositionEvent (the topic names the entry entryPrice, REST avgPrice)."""

from __future__ import annotations

import msgspec
import pytest

from common.bybit.schemas.envelope import Envelope, Paged
from common.bybit.schemas.position import Position
from common.bybit.ws import parse
from common.schemas import PositionEvent
from tests.common.bybit.recorded import frame, with_new_fields

pytestmark = pytest.mark.unit

_rest = msgspec.json.Decoder(Envelope[Paged[Position]])


def test_the_position_topic_and_the_rest_list_decode():
    assert parse(frame("position.json")).data[0].entryPrice == "0"
    positions = _rest.decode(frame("rest_position_list.json"))
    assert positions.retCode == 0 and positions.result.list[0].avgPrice == "27464.50441675"


def test_a_rest_list_with_fields_bybit_adds_decodes_the_same():
    raw = frame("rest_position_list.json")
    assert _rest.decode(with_new_fields(raw)) == _rest.decode(raw)


def test_a_flat_position_from_the_topic_becomes_its_event():
    p = parse(frame("position.json")).data[0]
    assert p.to_position_event(ts_ns=3) == PositionEvent(
        symbol="BTCUSDT", side="", size="0", entry_price="0", take_profit="0", stop_loss="0",
        unrealised_pnl="0", realised_pnl="-25.06579337", ts_ns=3)


def test_a_rest_position_has_its_entry_in_avg_price():
    p = _rest.decode(frame("rest_position_list.json")).result.list[0]
    assert p.entryPrice == "" and p.to_position_event(ts_ns=0).entry_price == "27464.50441675"
