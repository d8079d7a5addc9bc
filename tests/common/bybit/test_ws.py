"""Frames in, typed messages out: `parse` reads op replies and every topic, names an undecodable frame, and
ignores fields Bybit may add; the client hands an undecodable frame over and reads on."""

from __future__ import annotations

import json

import pytest

from common.bybit.schemas.envelope import WsReply
from common.bybit.ws import BybitWs, parse
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


@pytest.mark.parametrize("name", ["orderbook_snapshot.json", "orderbook_delta.json", "public_trade.json"])
def test_a_market_frame_decodes_in_one_pass_to_what_the_generic_path_gives(name):
    """A frame that starts with its topic is decoded in one pass; a leading space sends the same frame the
    generic way (the envelope, then its data). Both give the same message, from bytes and from text, and
    a frame the one pass cannot take (a null where a default exists, a `cts` of 0) gives it too."""
    raw = frame(name)
    generic = parse(b" " + raw)
    assert parse(raw) == generic and parse(raw.decode()) == generic
    odd = json.dumps(json.loads(raw) | {"cts": 0, "nullField": None}, separators=(",", ":")).encode()
    assert odd.startswith(b'{"topic":')
    assert parse(odd) == parse(b" " + odd) and parse(odd).cts is None
    if name == "public_trade.json":
        nulled = raw.replace(b'"BT":false', b'"BT":null')
        assert nulled != raw and parse(nulled) == generic


def test_an_op_reply_with_a_new_field_decodes_the_same():
    reply = b'{"success":true,"ret_msg":"pong","conn_id":"c1","req_id":"1","op":"ping"}'
    assert parse(with_new_fields(reply)) == parse(reply)


class Frames:
    """A connection that delivers the given frames, then ends (as a dropped socket would)."""

    def __init__(self, *frames: bytes | str) -> None:
        self.frames = list(frames)

    async def recv(self) -> bytes | str:
        if not self.frames:
            raise EOFError("no more frames")
        return self.frames.pop(0)

    async def send(self, message: str) -> None:
        pass


async def test_an_undecodable_frame_is_handed_over_and_the_connection_reads_on():
    """A wallet push missing a field (a topic execution does not even use) must not drop the stream."""
    wallet = json.loads(frame("wallet.json"))
    del wallet["data"][0]["totalEquity"]
    got, bad = [], []
    ws = BybitWs(url="ws://sim/v5/private", on_message=got.append,
                 on_undecodable=lambda raw, error: bad.append((raw, error)))
    with pytest.raises(EOFError):  # read past the bad frame to the end of the connection
        await ws._read(Frames(json.dumps(wallet), frame("order.json")))
    assert len(bad) == 1 and "totalEquity" in bad[0][1] and bad[0][0] == json.dumps(wallet)
    assert [m.topic for m in got] == ["order"]
