"""The simulator's WebSocket endpoints through the connector (common.bybit): public streams that rebuild a
book, private auth and events, and Bybit's op replies."""

from __future__ import annotations

import asyncio
import json
import time
from decimal import Decimal

import pytest
import websockets
from common.bybit.enums import BookMsgType, OrderStatus
from common.bybit.schemas.envelope import PrivateMsg, PublicMsg
from common.bybit.signing import ws_auth_signature
from common.bybit.ws import BybitWs
from market_service.book import Book

from tests.exchange_sim.server.conftest import order, rest
from tests.support import wait_until_async

pytestmark = pytest.mark.service


async def test_public_streams_rebuild_a_book_and_carry_trades_tickers_klines(sim):
    book, other = Book("BTCUSDT"), {}

    def on_message(msg: PublicMsg):
        if msg.topic.startswith("orderbook"):
            book.apply(kind=msg.type, data=msg.data, ts_ms=msg.ts)
        else:
            other.setdefault(msg.topic.split(".")[0], []).append(msg)

    ws = BybitWs(url=sim.ws_public, on_message=on_message)
    await ws.subscribe(["orderbook.50.BTCUSDT", "publicTrade.BTCUSDT", "tickers.BTCUSDT", "kline.1.BTCUSDT"])
    task = asyncio.create_task(ws.run())
    try:
        await wait_until_async(lambda: book.u > 5 and len(other) == 3, timeout=15,
                               what="book deltas, trades, tickers and klines")
        bids, asks = book.levels(50)
        assert len(bids) == 50 and len(asks) == 50
        assert Decimal(bids[0][0]) < Decimal(asks[0][0])
        assert other["publicTrade"][0].data[0].s == "BTCUSDT"
        first_ticker = other["tickers"][0]
        assert first_ticker.type == BookMsgType.SNAPSHOT and Decimal(first_ticker.data.lastPrice) > 0
        candle = other["kline"][-1].data[-1]
        assert candle.interval == "1" and candle.end - candle.start == 59_999
        assert Decimal(candle.low) <= Decimal(candle.close) <= Decimal(candle.high)
    finally:
        await ws.close()
        await asyncio.wait_for(task, 5)


async def test_the_client_offers_no_compression_so_no_frame_is_inflated(sim):
    """The simulator, like many servers, takes permessage-deflate when offered; the connector does not
    offer it (an inflate per frame on every tick's path)."""
    ws = BybitWs(url=sim.ws_public, on_message=lambda m: None)
    task = asyncio.create_task(ws.run())
    try:
        await asyncio.wait_for(ws.connected.wait(), 10)
        assert ws._ws is not None and ws._ws.protocol.extensions == []
        async with websockets.connect(sim.ws_public) as offered:  # the server's side of the check
            assert [e.name for e in offered.protocol.extensions] == ["permessage-deflate"]
    finally:
        await ws.close()
        await asyncio.wait_for(task, 5)


async def test_private_stream_auth_and_events(sim):
    events: list[PrivateMsg] = []
    ws = BybitWs(url=sim.ws_private, on_message=events.append, api_key=sim.key, api_secret=sim.secret)
    await ws.subscribe(["order", "execution", "position", "wallet"])
    task = asyncio.create_task(ws.run())
    r = rest(sim)
    try:
        await asyncio.wait_for(ws.connected.wait(), 10)
        await asyncio.sleep(0.2)  # the subscribe reply travels with the simulated latency
        await r.place_order(order(orderLinkId="p-1"))
        topics = {"order", "execution", "position", "wallet"}
        await wait_until_async(lambda: {m.topic for m in events} >= topics, timeout=15,
                               what="all four private topics")
        orders = [o for m in events if m.topic == "order" for o in m.data]
        assert any(o.orderLinkId == "p-1" and o.orderStatus == OrderStatus.FILLED for o in orders)
    finally:
        await r.http.aclose()
        await ws.close()
        await asyncio.wait_for(task, 5)


async def test_private_stream_refuses_a_wrong_secret(sim):
    refused: list[str] = []  # the client retries a refused login with backoff and says so each time
    ws = BybitWs(url=sim.ws_private, on_message=lambda m: None, api_key=sim.key, api_secret="wrong",
                 on_login_failed=refused.append)
    task = asyncio.create_task(ws.run())
    try:
        await wait_until_async(lambda: refused, timeout=10, what="the login refused")
        assert sim.ws_private in refused[0] and not ws.connected.is_set()
    finally:
        await ws.close()
        task.cancel()


async def test_public_op_replies_echo_req_id_and_refuse_unknown_topics(sim):
    async with websockets.connect(sim.ws_public) as ws:
        await ws.send('{"op":"ping","req_id":"p1"}')
        pong = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert (pong["op"], pong["ret_msg"], pong["req_id"], pong["success"]) == ("ping", "pong", "p1", True)
        await ws.send('{"op":"subscribe","req_id":"s1","args":["orderbook.50.NOPEUSDT"]}')
        bad = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert (bad["op"], bad["req_id"], bad["success"]) == ("subscribe", "s1", False)
        assert "orderbook.50.NOPEUSDT" in bad["ret_msg"]
        await ws.send('{"op":"subscribe","req_id":"s2","args":["tickers.ETHUSDT"]}')
        ok = json.loads(await asyncio.wait_for(ws.recv(), 5))
        first = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert (ok["req_id"], ok["success"]) == ("s2", True)
        assert (first["topic"], first["type"]) == ("tickers.ETHUSDT", "snapshot")
        assert first["data"]["symbol"] == "ETHUSDT" and first["data"]["lastPrice"]


async def test_a_numeric_req_id_is_accepted_and_echoed_as_a_string_and_errors_carry_it(sim):
    async with websockets.connect(sim.ws_public) as ws:
        await ws.send(json.dumps({"op": "subscribe", "req_id": 7, "args": ["publicTrade.BTCUSDT"]}))
        reply = await _reply(ws)
        assert (reply["success"], reply["req_id"]) == (True, "7")
        await ws.send(json.dumps({"op": "subscribe", "req_id": 8, "args": ["publicTrade.NOPEUSDT"]}))
        reply = await _reply(ws)
        assert (reply["success"], reply["req_id"]) == (False, "8")
        await ws.send(json.dumps({"op": "subscribe", "req_id": 9, "args": {"not": "a list"}}))
        reply = await _reply(ws)
        assert (reply["success"], reply["req_id"]) == (False, "9")  # an invalid frame's reply names it too


async def test_a_login_whose_expiry_has_passed_is_refused(sim):
    async with websockets.connect(sim.ws_private) as ws:
        expires = int(time.time() * 1000) - 1000
        sig = ws_auth_signature(secret=sim.secret, expires_ms=expires)
        await ws.send(json.dumps({"op": "auth", "args": [sim.key, expires, sig]}))
        reply = await _reply(ws)
        assert (reply["op"], reply["success"], reply["ret_msg"]) == ("auth", False, "Params Error")


async def _reply(ws) -> dict:
    """The next op reply (data frames skipped)."""
    while True:
        frame = json.loads(await asyncio.wait_for(ws.recv(), 5))
        if "topic" not in frame:
            return frame
