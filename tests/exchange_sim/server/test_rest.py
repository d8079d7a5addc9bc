"""The simulator's REST surface through the connector (common.bybit): calls, typed errors, Bybit's auth,
recv window and per-uid rate limits, and a market that moves (and triggers TP/SL) with nobody watching."""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal

import httpx
import msgspec
import pytest
from common.bybit.enums import Category, OrderStatus, Side, StopOrderType
from common.bybit.errors import BybitError
from common.bybit.http import BybitHttp
from common.bybit.rest import BybitRest
from common.bybit.schemas.envelope import Envelope
from common.bybit.schemas.order import AmendOrderParams
from common.bybit.signing import rest_signature

from tests.exchange_sim.server.conftest import order, rest
from tests.support import wait_until_async

pytestmark = pytest.mark.service


async def test_rest_endpoints_and_typed_errors(sim):
    r = rest(sim)
    try:
        assert {i.symbol for i in await r.instruments()} == {"BTCUSDT", "ETHUSDT"}
        book = await r.orderbook(symbol="BTCUSDT", limit=5)
        assert len(book.b) == 5 and Decimal(book.b[0][0]) < Decimal(book.a[0][0])
        assert (await r.tickers(symbol="ETHUSDT"))[0].lastPrice

        async def traded() -> bool:  # a simulator that has just started may not have printed a trade yet
            candles = await r.klines(symbol="BTCUSDT", limit=1)
            return bool(candles.list and await r.recent_trades(symbol="BTCUSDT"))

        await wait_until_async(traded, timeout=15, what="a kline and a trade from the simulator")
        placed = await r.place_order(order(orderLinkId="c-1"))
        assert placed.orderLinkId == "c-1"
        pos = {p.symbol: p for p in await r.positions()}
        # by settleCoin, Bybit lists only positions with a size: the flat ETHUSDT is not there
        assert (pos["BTCUSDT"].side, pos["BTCUSDT"].size) == (Side.BUY, "0.001") and "ETHUSDT" not in pos
        assert (await r.executions(symbol="BTCUSDT"))[0].orderLinkId == "c-1"
        assert Decimal((await r.wallet()).list[0].totalEquity) > 0
        with pytest.raises(BybitError) as e:
            await r.place_order(order(qty="0.0015"))
        assert e.value.code == 170137  # qty is not a multiple of qtyStep
        with pytest.raises(BybitError) as e:
            await r.place_order(order(orderLinkId="c-1"))
        assert e.value.code == 110072
        with pytest.raises(BybitError) as e:
            await r.amend_order(AmendOrderParams(category=Category.LINEAR, symbol="BTCUSDT",
                                                 orderLinkId="nope", qty="1"))
        assert e.value.code == 110001
        with pytest.raises(BybitError) as e:
            await r.place_order(order(qty="100.000"))
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

        async def flat() -> bool:
            return any(Decimal(p.size) == 0 for p in await r.positions(symbol="BTCUSDT"))

        # the generator moves BTC by 20 USDT within seconds
        await wait_until_async(flat, timeout=30, interval=0.1, what="TP or SL to close the position")
        async def closing_order() -> list:  # the order history lags behind, as Bybit's does
            return [o for o in await r.order_history(symbol="BTCUSDT") if o.stopOrderType]

        await wait_until_async(closing_order, timeout=10, what="the closing order in the order history")
        closing = await closing_order()
        assert closing and closing[0].stopOrderType in (StopOrderType.TAKE_PROFIT, StopOrderType.STOP_LOSS)
        assert closing[0].orderStatus == OrderStatus.FILLED
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
        for code in (10004, 10003):  # neither refused order was placed
            assert await right.order_by_link(symbol="BTCUSDT", order_link_id=f"refused-{code}") is None
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

    send = http._send

    async def wire(method: str, path: str, payload: bytes, *, auth: bool):  # each reply as it came back
        reply = await send(method, path, payload, auth=auth)
        seen.append((path, msgspec.json.decode(reply.body)["retCode"]))
        return reply

    http._send = wire
    try:
        assert (await BybitRest(http).positions(symbol="BTCUSDT"))[0].symbol == "BTCUSDT"
        assert seen == [("/v5/position/list", 10002), ("/v5/market/time", 0), ("/v5/position/list", 0)]
        assert abs(http.offset_ms) < 5_000
    finally:
        await http.aclose()


async def test_place_orders_gives_each_order_its_ack_or_its_refusal(sim):
    """BybitRest.place_orders: one create-batch, each order's OrderId or BybitError in order; the client's
    limiter counts the batch's orders, so the next batch that would overrun the window waits for it."""
    r = rest(sim)
    try:
        acks = await r.place_orders([order(orderLinkId="pb-1"), order(orderLinkId="x" * 37),
                                     order(orderLinkId="pb-3", side=Side.SELL)])
        assert isinstance(acks[1], BybitError) and acks[1].code == 10001
        assert [(a.orderLinkId, bool(a.orderId)) for a in (acks[0], acks[2])] == [("pb-1", True), ("pb-3", True)]
        assert (await r.order_by_link(symbol="BTCUSDT", order_link_id="pb-3")).orderId == acks[2].orderId
        # 3 of the window's 10 are spent: 8 more would overrun it (one would fail with 10006); the limiter
        # counts orders, not requests, so the batch waits for the next window and all 8 are placed
        later = await r.place_orders([order(orderLinkId=f"pb-w{n}") for n in range(8)])
        assert [type(a).__name__ for a in later] == ["OrderId"] * 8, later
    finally:
        await r.http.aclose()
