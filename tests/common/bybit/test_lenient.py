"""`null` where Bybit documents a string decodes as the field's default, on the private stream and in
REST replies; a frame that lacks a required field still fails."""

from __future__ import annotations

import json

import msgspec
import pytest

from common.bybit import lenient
from common.bybit.http import BybitHttp
from common.bybit.schemas.envelope import Paged
from common.bybit.schemas.order import Order
from common.bybit.ws import parse
from tests.common.bybit.recorded import frame

pytestmark = pytest.mark.unit


def _with(raw: bytes, **fields) -> bytes:
    """The recorded order frame with its first order's fields set (None: JSON null)."""
    doc = json.loads(raw)
    doc["data"][0].update(fields)
    return json.dumps(doc).encode()


def test_a_null_avg_price_on_the_order_topic_decodes_as_empty():
    [order] = parse(_with(frame("order.json"), avgPrice=None, orderLinkId="x")).data
    assert order.avgPrice == "" and order.orderLinkId == "x" and order.cumExecQty == "1"


def test_a_null_next_page_cursor_and_avg_price_in_a_rest_reply_decode_as_empty():
    order = json.loads(frame("order.json"))["data"][0] | {"avgPrice": None}
    result = json.dumps({"category": "linear", "list": [order], "nextPageCursor": None}).encode()
    page = BybitHttp(base_url="http://127.0.0.1:1")._result(msgspec.Raw(result), Paged[Order])
    assert page.nextPageCursor == "" and page.list[0].avgPrice == ""
    envelope = BybitHttp._decode(b'{"retCode":0,"retMsg":"OK","result":{},"retExtInfo":null,"time":1}')
    assert envelope.retExtInfo == {}


def test_a_required_field_null_or_missing_still_fails_with_the_strict_error():
    with pytest.raises(ValueError, match="orderId"):
        parse(_with(frame("order.json"), orderId=None))
    with pytest.raises(msgspec.DecodeError, match="not JSON|malformed|truncated"):
        lenient.decode(msgspec.json.Decoder(Order), b"{not json")
