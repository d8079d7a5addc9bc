"""Each fault switch, exercised through the connector, gives the behaviour clients must handle."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from common.bybit import constants as k
from common.bybit.errors import BybitError, BybitNetworkError, should_retry
from common.bybit.http import BybitHttp
from common.bybit.ws import BybitWs
from market_service.book import Book, BookError
from exchange_sim.server.faults import FaultPatch, Faults

from tests.exchange_sim.server.conftest import order, rest
from tests.support import wait_until_async

pytestmark = pytest.mark.service


async def set_faults(sim, **patch) -> Faults:
    admin = BybitHttp(base_url=sim.rest, api_key=sim.key, api_secret=sim.secret, time_sync=False)
    try:
        return await admin.post("/admin/faults", FaultPatch(**patch), Faults)
    finally:
        await admin.aclose()


async def test_admin_needs_credentials_or_the_loopback_token(sim):
    async with httpx.AsyncClient(base_url=sim.rest) as c:
        anon = (await c.post("/admin/faults", json={"rest_delay_ms": 5})).json()
        assert anon["retCode"] == k.INVALID_API_KEY
        bad = (await c.post("/admin/faults", json={"book_gap": 1}, headers={"X-Sim-Admin-Token": "x"})).json()
        assert bad["retCode"] == k.INVALID_API_KEY
        ok = (await c.post("/admin/faults", json={"book_gap": 1},
                           headers={"X-Sim-Admin-Token": "admintoken"})).json()
        assert ok["retCode"] == 0 and ok["result"]["book_gap"] == 1
    assert (await set_faults(sim, reset=True)).book_gap == 0


async def test_rejected_orders_and_rate_limit_bursts(sim):
    r = rest(sim)
    try:
        await set_faults(sim, reject_orders=k.INSUFFICIENT_BALANCE)
        with pytest.raises(BybitError) as e:
            await r.place_order(order(orderLinkId="rej"))
        assert e.value.code == k.INSUFFICIENT_BALANCE and not should_retry(e.value)
        await set_faults(sim, reject_orders=0, rate_limit_burst=2)
        placed = await r.place_order(order(orderLinkId="burst-1"))
        assert placed.orderLinkId == "burst-1"  # waited out two 10006
        await set_faults(sim, rate_limit_burst=10)
        with pytest.raises(BybitError) as e:
            await r.open_orders()
        assert e.value.code == k.RATE_LIMITED and should_retry(e.value)
    finally:
        await r.http.aclose()


async def test_clock_skew_is_absorbed_by_a_time_resync(sim):
    r = rest(sim)
    try:
        await r.positions()  # synced with the true clock
        await set_faults(sim,
                         clock_skew_ms=60_000)  # the server now runs a minute ahead: 10002, resync, retry
        assert await r.positions(symbol="BTCUSDT")
        assert r.http.offset_ms > 50_000
    finally:
        await r.http.aclose()


@pytest.mark.parametrize("mode", ["5xx", "timeout"])
async def test_ambiguous_submit_is_reported_as_such_and_the_order_exists(sim, mode):
    r = rest(sim, timeout_s=1.0)
    try:
        await r.positions()
        await set_faults(sim, ambiguous_submit=mode)
        with pytest.raises(BybitNetworkError) as e:
            await r.place_order(order(orderLinkId=f"amb-{mode}"))
        assert e.value.ambiguous and not should_retry(e.value)
        await set_faults(sim, ambiguous_submit="")
        found = await r.open_orders(order_link_id=f"amb-{mode}")  # reconcile by orderLinkId
        assert [(o.orderLinkId, o.orderStatus) for o in found] == [(f"amb-{mode}", "Filled")]
    finally:
        await r.http.aclose()


async def test_delayed_and_dropped_rest_replies_time_out(sim):
    r = rest(sim, timeout_s=0.5)
    try:
        await set_faults(sim, rest_delay_ms=1500)
        with pytest.raises(BybitNetworkError) as e:
            await r.tickers(symbol="BTCUSDT")
        assert not e.value.ambiguous and should_retry(e.value)  # a GET is safe to repeat
        await set_faults(sim, rest_delay_ms=0, rest_drop=True)
        with pytest.raises(BybitNetworkError):
            await r.tickers(symbol="BTCUSDT")
        await set_faults(sim, rest_drop=False)
        assert await r.tickers(symbol="BTCUSDT")
    finally:
        await r.http.aclose()


async def test_dropped_and_silent_public_socket_reconnect_and_resubscribe(sim):
    msgs, lost = [], []
    ws = BybitWs(url=sim.ws_public, on_message=msgs.append, on_disconnect=lost.append, silent_after_s=1.0)
    await ws.subscribe(["publicTrade.BTCUSDT", "orderbook.1.BTCUSDT"])
    task = asyncio.create_task(ws.run())
    try:
        await wait_until_async(lambda: msgs, timeout=15, what="first data")
        await set_faults(sim, drop=["public"])
        await wait_until_async(lambda: ws.connects >= 2, timeout=15, what="reconnect after drop")
        await set_faults(sim, ws_public_silent=True)
        first_silent = ws.connects
        await wait_until_async(lambda: ws.connects > first_silent, timeout=15,
                               what="silence detected and a new connection")
        assert len(lost) == 2 and lost[0].startswith("ConnectionClosed") and "SilentConnection" in lost[1], lost
        await set_faults(sim, ws_public_silent=False)
        n = len(msgs)
        await wait_until_async(lambda: len(msgs) > n + 3, timeout=15,
                               what="data again on the resubscribed topics")
    finally:
        await ws.close()
        await asyncio.wait_for(task, 5)


async def test_dropped_private_socket_reauthenticates(sim):
    events = []
    ws = BybitWs(url=sim.ws_private, on_message=events.append, api_key=sim.key, api_secret=sim.secret)
    await ws.subscribe(["order"])
    task = asyncio.create_task(ws.run())
    r = rest(sim)
    try:
        await asyncio.wait_for(ws.connected.wait(), 10)
        await set_faults(sim, drop=["private"])
        await wait_until_async(lambda: ws.connects >= 2, timeout=15, what="private reconnect")
        await asyncio.sleep(0.2)  # let the re-subscribe land (it travels with the simulated latency)
        await r.place_order(order(orderLinkId="after-drop"))
        await wait_until_async(lambda: any(o.orderLinkId == "after-drop" for m in events for o in m.data),
                               timeout=15, what="order event after re-auth")
    finally:
        await r.http.aclose()
        await ws.close()
        await asyncio.wait_for(task, 5)


async def test_book_gap_is_detected_and_healed_by_a_fresh_snapshot(sim):
    book, gaps = Book("BTCUSDT"), []
    ws: BybitWs

    async def on_message(msg):
        try:
            book.apply(kind=msg.type, data=msg.data, ts_ms=msg.ts)
        except BookError as gap:
            gaps.append(gap)
            await ws.resubscribe(msg.topic)

    ws = BybitWs(url=sim.ws_public, on_message=on_message)
    await ws.subscribe(["orderbook.50.BTCUSDT"])
    task = asyncio.create_task(ws.run())
    try:
        await wait_until_async(lambda: book.u > 2, timeout=15, what="book running")
        await set_faults(sim, book_gap=1)
        await wait_until_async(lambda: gaps and book.u > 0, timeout=15,
                               what="gap detected, then a new snapshot")
        u = book.u
        await wait_until_async(lambda: book.u > u + 2, timeout=15, what="deltas applying again")
        bids, asks = book.levels(1)
        assert bids[0][0] < asks[0][0] or float(bids[0][0]) < float(asks[0][0])
    finally:
        await ws.close()
        await asyncio.wait_for(task, 5)
