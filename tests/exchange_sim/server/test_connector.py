"""The connector (common.bybit) against the simulator: REST calls, typed errors, streams, rate limits."""

from __future__ import annotations

import asyncio
import json
import time
from decimal import Decimal

import httpx
import msgspec
import pytest
import websockets
from common.bybit.errors import BybitError
from common.bybit.http import BybitHttp
from common.bybit.rest import BybitRest
from common.bybit.schemas.envelope import Envelope, PrivateMsg, PublicMsg
from common.bybit.schemas.order import AmendOrderParams, PlaceOrderParams
from common.bybit.signing import rest_signature
from common.bybit.ws import AuthFailed, BybitWs
from market_service.book import Book


def rest(sim, **kw) -> BybitRest:
    return BybitRest(BybitHttp(base_url=sim.rest, api_key=sim.key, api_secret=sim.secret, **kw))


async def until(predicate, *, timeout: float = 15.0, what: str = "condition"):
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.02)


def order(**kw) -> PlaceOrderParams:
    return PlaceOrderParams(**{"category": "linear", "symbol": "BTCUSDT", "side": "Buy",
                               "orderType": "Market",
                               "qty": "0.001", **kw})


async def test_rest_endpoints_and_typed_errors(sim):
    r = rest(sim)
    try:
        assert {i.symbol for i in await r.instruments()} == {"BTCUSDT", "ETHUSDT"}
        book = await r.orderbook(symbol="BTCUSDT", limit=5)
        assert len(book.b) == 5 and Decimal(book.b[0][0]) < Decimal(book.a[0][0])
        assert (await r.tickers(symbol="ETHUSDT"))[0].lastPrice
        for _ in range(300):  # a simulator that has just started may not have printed a trade yet
            if (await r.klines(symbol="BTCUSDT", limit=1)).list and await r.recent_trades(symbol="BTCUSDT"):
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("no kline and trade from the simulator within 15 s")
        placed = await r.place_order(order(orderLinkId="c-1"))
        assert placed.orderLinkId == "c-1"
        pos = {p.symbol: p for p in await r.positions()}
        assert (pos["BTCUSDT"].side, pos["BTCUSDT"].size) == ("Buy", "0.001") and pos["ETHUSDT"].size == "0"
        assert (await r.executions(symbol="BTCUSDT"))[0].orderLinkId == "c-1"
        assert Decimal((await r.wallet()).list[0].totalEquity) > 0
        with pytest.raises(BybitError) as e:
            await r.place_order(order(qty="0.0015"))
        assert e.value.code == 170137  # qty is not a multiple of qtyStep
        with pytest.raises(BybitError) as e:
            await r.place_order(order(orderLinkId="c-1"))
        assert e.value.code == 110072
        with pytest.raises(BybitError) as e:
            await r.amend_order(AmendOrderParams(category="linear", symbol="BTCUSDT", orderLinkId="nope",
                                                 qty="1"))
        assert e.value.code == 110001
        with pytest.raises(BybitError) as e:
            await r.place_order(order(qty="1000.000"))
        assert e.value.code == 110007
    finally:
        await r.http.aclose()


async def test_client_limiter_keeps_within_bybits_limit(sim):
    r = rest(sim)
    try:
        await r.cancel_all()  # cancel-all allows 1 per second: the second call must wait, not fail
        await r.cancel_all()
        assert r.http.limiter._windows["/v5/order/cancel-all"].remaining == 0
    finally:
        await r.http.aclose()


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
        await until(lambda: book.u > 5 and len(other) == 3, what="book deltas, trades, tickers and klines")
        bids, asks = book.levels(50)
        assert len(bids) == 50 and len(asks) == 50
        assert Decimal(bids[0][0]) < Decimal(asks[0][0])
        assert other["publicTrade"][0].data[0].s == "BTCUSDT"
        first_ticker = other["tickers"][0]
        assert first_ticker.type == "snapshot" and Decimal(first_ticker.data.lastPrice) > 0
        candle = other["kline"][-1].data[-1]
        assert candle.interval == "1" and candle.end - candle.start == 59_999
        assert Decimal(candle.low) <= Decimal(candle.close) <= Decimal(candle.high)
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
        await until(lambda: {m.topic for m in events} >= {"order", "execution", "position", "wallet"},
                    what="all four private topics")
        assert any(o.orderLinkId == "p-1" and o.orderStatus == "Filled" for m in events if m.topic == "order"
                   for o in m.data)
    finally:
        await r.http.aclose()
        await ws.close()
        await asyncio.wait_for(task, 5)


async def test_private_stream_refuses_a_wrong_secret(sim):
    ws = BybitWs(url=sim.ws_private, on_message=lambda m: None, api_key=sim.key, api_secret="wrong")
    with pytest.raises(AuthFailed):
        await asyncio.wait_for(ws.run(), 10)


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


async def test_server_enforces_bybits_per_uid_limits_with_headers(sim):
    """cancel-all allows 1 request per second: of 5 sent at once at most 2 pass (a window may turn)."""
    async def cancel_all(client: httpx.AsyncClient) -> httpx.Response:
        body = b'{"category":"linear","settleCoin":"USDT"}'
        ts = str(int(time.time() * 1000))
        sign = rest_signature(secret=sim.secret, timestamp=ts, api_key=sim.key, recv_window=5000, params=body)
        headers = {"X-BAPI-API-KEY": sim.key, "X-BAPI-TIMESTAMP": ts, "X-BAPI-RECV-WINDOW": "5000",
                   "X-BAPI-SIGN": sign}
        return await client.post("/v5/order/cancel-all", content=body, headers=headers)

    async with httpx.AsyncClient(base_url=sim.rest, timeout=10) as client:
        replies = await asyncio.gather(*(cancel_all(client) for _ in range(5)))
    codes = [r.json()["retCode"] for r in replies]
    assert codes.count(0) <= 2 and codes.count(10006) >= 3, codes
    for r in replies:
        assert r.headers["X-Bapi-Limit"] == "1"
        if r.json()["retCode"] == 10006:
            assert r.headers["X-Bapi-Limit-Status"] == "0"
            # the reset ends the current one-second window (the reply's `time` is taken a moment later)
            assert -100 < int(r.headers["X-Bapi-Limit-Reset-Timestamp"]) - r.json()["time"] <= 1000


async def test_the_market_moves_unwatched_and_triggers_tp_sl(sim):
    """Nobody subscribed: the market still steps, so a tight TP/SL closes the position on its own."""
    r = rest(sim)
    try:
        for attempt in range(5):  # TP/SL must straddle the price at arrival; a fast market may refuse one
            last = Decimal((await r.tickers(symbol="BTCUSDT"))[0].lastPrice)
            try:
                await r.place_order(order(qty="0.010", orderLinkId=f"tpsl-{attempt}",
                                          takeProfit=str(last + 20), stopLoss=str(last - 20)))
                break
            except BybitError as e:
                assert e.code == 10001, e
        pos = (await r.positions(symbol="BTCUSDT"))[0]
        assert pos.size == "0.010" and pos.takeProfit != "0" and pos.stopLoss != "0"
        flat = []

        async def poll():
            flat[:] = [p for p in await r.positions(symbol="BTCUSDT") if Decimal(p.size) == 0]

        for _ in range(300):  # up to ~30 s; the generator moves BTC by 20 USDT within seconds
            await poll()
            if flat:
                break
            await asyncio.sleep(0.1)
        assert flat, "neither TP nor SL triggered"
        closing = [o for o in await r.order_history(symbol="BTCUSDT") if o.stopOrderType]
        assert closing and closing[0].stopOrderType in ("TakeProfit", "StopLoss")
        assert closing[0].orderStatus == "Filled"
    finally:
        await r.http.aclose()


async def test_a_wrong_signature_and_an_unknown_key_get_10004_and_10003_on_v5(sim):
    wrong_sign = BybitRest(BybitHttp(base_url=sim.rest, api_key=sim.key, api_secret="not-the-secret"))
    unknown_key = BybitRest(BybitHttp(base_url=sim.rest, api_key="nobody-knows-me", api_secret=sim.secret))
    right = rest(sim)
    try:
        for r, code in ((wrong_sign, 10004), (unknown_key, 10003)):
            with pytest.raises(BybitError) as get:
                await r.positions(symbol="BTCUSDT")
            with pytest.raises(BybitError) as post:
                await r.place_order(order(orderLinkId=f"refused-{code}"))
            assert (get.value.code, post.value.code) == (code, code)
        assert await right.order_history(symbol="BTCUSDT") == []  # neither refused order was placed
    finally:
        for r in (wrong_sign, unknown_key, right):
            await r.http.aclose()


async def test_a_timestamp_outside_recv_window_gets_10002_and_the_connector_resyncs(sim):
    async with httpx.AsyncClient(base_url=sim.rest, timeout=10) as client:
        for skew_ms in (-6_000, 2_000):  # older than the 5 s window; further ahead than Bybit's 1 s
            ts = str(int(time.time() * 1000) + skew_ms)
            sign = rest_signature(secret=sim.secret, timestamp=ts, api_key=sim.key, recv_window=5000,
                                  params=b"category=linear")
            reply = await client.get("/v5/position/list?category=linear", headers={
                "X-BAPI-API-KEY": sim.key, "X-BAPI-TIMESTAMP": ts, "X-BAPI-RECV-WINDOW": "5000",
                "X-BAPI-SIGN": sign})
            envelope = msgspec.json.decode(reply.content, type=Envelope[msgspec.Raw])
            assert envelope.retCode == 10002 and "recv_window" in envelope.retMsg, envelope
    # the connector, time sync off and its clock a minute slow: 10002, then it resyncs and retries
    http = BybitHttp(base_url=sim.rest, api_key=sim.key, api_secret=sim.secret, time_sync=False)
    http.offset_ms = -60_000
    seen: list[tuple[str, int]] = []

    async def wire(response: httpx.Response) -> None:
        await response.aread()
        seen.append((response.url.path, response.json()["retCode"]))

    http._client.event_hooks["response"].append(wire)  # observe the replies on the wire
    try:
        assert (await BybitRest(http).positions(symbol="BTCUSDT"))[0].symbol == "BTCUSDT"
        assert seen == [("/v5/position/list", 10002), ("/v5/market/time", 0), ("/v5/position/list", 0)]
        assert abs(http.offset_ms) < 5_000
    finally:
        await http.aclose()
