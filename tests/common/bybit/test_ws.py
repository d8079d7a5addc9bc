"""Frames in, typed messages out: `parse` reads op replies and every topic, names an undecodable frame, and
ignores fields Bybit may add."""

from __future__ import annotations

import pytest

from common.bybit.schemas.envelope import WsReply
from common.bybit.ws import parse
from tests.common.bybit.recorded import frame, with_new_fields

pytestmark = pytest.mark.unit


def test_op_reply_and_undecodable_frame():
    reply = parse(b'{"success":true,"ret_msg":"pong","conn_id":"0970e817","req_id":"1","op":"ping"}')
    assert reply == WsReply(op="ping", success=True, ret_msg="pong", conn_id="0970e817", req_id="1")
    with pytest.raises(ValueError, match="undecodable Bybit frame"):
        parse(b'{"topic":"order","id":"x","creationTime":1,"data":[{"orderId":1}]}')


@pytest.mark.parametrize("name", ["orderbook_snapshot.json", "orderbook_delta.json", "public_trade.json",
                                  "ticker_snapshot.json", "kline.json", "order.json", "execution.json",
                                  "position.json", "wallet.json"])
def test_ws_frames_with_fields_bybit_adds_decode_the_same(name):
    raw = frame(name)
    grown = with_new_fields(raw)
    assert b"addedByBybit" in grown
    assert parse(grown) == parse(raw)


def test_an_op_reply_with_a_new_field_decodes_the_same():
    reply = b'{"success":true,"ret_msg":"pong","conn_id":"c1","req_id":"1","op":"ping"}'
    assert parse(with_new_fields(reply)) == parse(reply)
