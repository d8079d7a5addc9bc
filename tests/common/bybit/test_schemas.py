"""Every wire Struct decodes a recorded Bybit frame (frames/ holds payloads as Bybit documents them)."""

from __future__ import annotations

import json
from pathlib import Path

import msgspec
import pytest
from common.bybit.schemas.envelope import Envelope, Paged, PrivateMsg, PublicMsg, WsReply
from common.bybit.schemas.instrument import InstrumentInfo
from common.bybit.schemas.orderbook import OrderbookData
from common.bybit.ws import parse

FRAMES = Path(__file__).parent / "frames"


def frame(name: str) -> bytes:
    return (FRAMES / name).read_bytes()


def test_orderbook_snapshot_and_delta():
    snap = parse(frame("orderbook_snapshot.json"))
    assert isinstance(snap, PublicMsg) and isinstance(snap.data, OrderbookData)
    assert (snap.type, snap.data.s, snap.data.u, snap.cts) == ("snapshot", "BTCUSDT", 18521288, 1672304484976)
    assert snap.data.b[0] == ("16493.50", "0.006")  # strings keep the tick's trailing zeros
    delta = parse(frame("orderbook_delta.json"))
    assert delta.type == "delta" and delta.data.b[0] == ("16493.50", "0")


def test_public_trade_ticker_kline():
    ticker = parse(frame("ticker_snapshot.json")).data
    assert (ticker.symbol, ticker.lastPrice, ticker.bid1Price, ticker.fundingRate) == (
        "BTCUSDT", "17216.00", "17215.50", "-0.000212")
    kline = parse(frame("kline.json")).data[0]
    assert (kline.start, kline.close, kline.confirm) == (1672324800000, "16677", False)


@pytest.mark.parametrize("name, field, value", [
    ("wallet.json", "totalEquity", "10262.91335023"),
])
def test_private_topics(name, field, value):
    msg = parse(frame(name))
    assert isinstance(msg, PrivateMsg) and msg.creationTime > 0
    assert getattr(msg.data[0], field) == value


def test_rest_results_and_error_envelope():
    inst = msgspec.json.decode(frame("rest_instruments.json"), type=Envelope[Paged[InstrumentInfo]])
    info = inst.result.list[0]
    assert (info.priceFilter.tickSize, info.lotSizeFilter.qtyStep, info.lotSizeFilter.minNotionalValue) == (
        "0.10", "0.001", "5")
    err = msgspec.json.decode(frame("rest_error.json"), type=Envelope[msgspec.Raw])
    assert err.retCode == 10004


def test_op_reply_and_undecodable_frame():
    reply = parse(b'{"success":true,"ret_msg":"pong","conn_id":"0970e817","req_id":"1","op":"ping"}')
    assert reply == WsReply(op="ping", success=True, ret_msg="pong", conn_id="0970e817", req_id="1")
    with pytest.raises(ValueError, match="undecodable Bybit frame"):
        parse(b'{"topic":"order","id":"x","creationTime":1,"data":[{"orderId":1}]}')


def with_new_fields(raw: bytes) -> bytes:
    """The frame as a later Bybit might send it: an unknown field (of a shape no field here has) in the
    envelope and in every object of the payload. `retExtInfo` is a free-form map, so it is left alone."""
    def grow(node):
        if isinstance(node, dict):
            grown = {k: v if k == "retExtInfo" else grow(v) for k, v in node.items()}
            return grown | {"addedByBybit": {"nested": [1, "two", None]}}
        if isinstance(node, list):
            return [grow(v) for v in node]
        return node
    return json.dumps(grow(json.loads(raw))).encode()


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


@pytest.mark.parametrize("name, result", [
    ("rest_instruments.json", Paged[InstrumentInfo]),
])
def test_rest_results_with_fields_bybit_adds_decode_the_same(name, result):
    decoder = msgspec.json.Decoder(Envelope[result])
    raw = frame(name)
    assert decoder.decode(with_new_fields(raw)) == decoder.decode(raw)


def test_an_error_reply_with_new_fields_keeps_its_code_and_message():
    reply = msgspec.json.decode(with_new_fields(frame("rest_error.json")), type=Envelope[msgspec.Raw])
    assert (reply.retCode, reply.time) == (10004, 1672211928338)  # as the connector reads every reply first
    assert reply.retMsg.startswith("error sign!")
