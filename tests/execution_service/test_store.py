"""Ownership is durable: whether a position is ours is decided by the persisted record of the fills of our
orders that built it, not by intents (pruned after a day), so EXEC_ZOMBIE_POLICY=flatten closes a position
opened on the exchange directly and never an operator's day-old manual one."""

from __future__ import annotations

import asyncio
import json
import random

import msgspec
import pytest
import redis.asyncio as aioredis

from common import constants as c
from common.bybit.schemas.order import Order
from common.bybit.schemas.position import Position
from execution_service.store import Store
from tests.support import wait_until

pytestmark = pytest.mark.service

DAY_NS = 86_400 * 10**9


def _newest_zombie_step(execution) -> str:
    plan = json.loads(execution.r.lindex(c.EXEC_RECOVERY_KEY, 0))
    return next(s["detail"] for s in plan["steps"] if s["name"] == "zombie positions")


def test_a_day_old_manual_position_is_ours_and_never_flattened(execution):
    execution.env["EXEC_ZOMBIE_POLICY"] = "flatten"
    execution.start().wait_state("NORMAL")
    manual = execution.intent(source="manual")
    wait_until(lambda: (r := execution.record(manual.intent_id)) and r["status"] == "filled", timeout=30,
               what="the manual order filled")

    rec = execution.record(manual.intent_id)  # a day passes: the intent's record is old enough to go
    rec["ts_ns"] -= DAY_NS + 3_600 * 10**9
    execution.r.hset(c.EXEC_INTENTS_KEY, manual.intent_id, json.dumps(rec))
    wait_until(lambda: execution.record(manual.intent_id) is None, timeout=30, what="the intent pruned")

    execution.stop()  # a restart: a recovery plan looks for zombies with no intent left to go by
    execution.post("/v5/order/create", {"symbol": "ETHUSDT", "side": "Buy", "orderType": "Market", "qty": "0.1",
                                        "orderLinkId": "web-1"})  # opened on the exchange's website
    execution.start().wait_state("NORMAL")
    assert _newest_zombie_step(execution) == "flattened: ETHUSDT Buy 0.1"
    [held] = execution.positions()
    assert (held["symbol"], float(held["size"])) == ("BTCUSDT", 0.01)
    assert list(json.loads(execution.r.hget(c.EXEC_OWNERSHIP_KEY, "BTCUSDT"))) == [manual.intent_id]  # why


def _position(size: str, updated_ms: int) -> Position:
    return Position(symbol="BTCUSDT", side="Buy", size=size, positionValue="0", leverage="10", markPrice="75000",
                    unrealisedPnl="0", cumRealisedPnl="0", updatedTime=str(updated_ms))


async def test_an_older_snapshot_never_overwrites_what_the_stream_said_since(redis_url):
    """Recovery merges a snapshot the stream moved past (not clean): the stream's newer position stays."""
    r = aioredis.Redis.from_url(redis_url)
    store = Store(r)
    try:
        await store.apply_position(_position("0.02", 2_000))  # the stream, during the snapshot
        await store.merge(orders=[], positions=[_position("0.01", 1_000)])  # the REST snapshot, taken before
        assert (await store.positions())["BTCUSDT"].size == "0.02"
        await store.merge(orders=[], positions=[_position("0.03", 3_000)])  # a newer one does win
        assert (await store.positions())["BTCUSDT"].size == "0.03"
    finally:
        await r.aclose()


async def test_updates_at_once_leave_the_newest_whichever_lands_last(redis_url):
    """The private stream's handler, a recovery's merge and a router's lookup may write the same position
    or order at once: the newest update stays, never an older one that landed after it."""
    r = aioredis.Redis.from_url(redis_url)
    store = Store(r)
    order = Order(orderId="o1", orderLinkId="s-1", symbol="BTCUSDT", side="Buy", orderType="Limit", price="70000",
                  qty="0.01", orderStatus="New", timeInForce="GTC", createdTime="1", updatedTime="1")
    rng = random.Random(7)
    try:
        for _ in range(10):
            await r.delete(c.EXEC_POSITIONS_KEY, c.EXEC_ORDERS_KEY)
            times = rng.sample(range(1, 11), 10)
            await asyncio.gather(*(store.apply_position(_position(str(t), t * 1_000)) for t in times))
            await asyncio.gather(*(store.apply_order(msgspec.structs.replace(order, qty=str(t), updatedTime=str(t)))
                                   for t in times))
            assert (await store.positions())["BTCUSDT"].size == "10"
            assert (await store.orders())["s-1"].qty == "10"
    finally:
        await r.aclose()


async def test_ownership_keeps_each_links_last_fill_and_a_flat_position_drops_the_older(redis_url):
    """Fills of several orders, out of order and at once, into the ownership record; exchange ms come back
    as the same integers; a flat position keeps only the fills after it, and none left removes the symbol."""
    r = aioredis.Redis.from_url(redis_url)
    store = Store(r)
    t = 1_796_587_641_310  # exchange ms
    try:
        await asyncio.gather(*(store.record_fill(symbol="BTCUSDT", link=link, ts_ms=t + dt) for link, dt in
                               (("s-a", 5), ("s-b", 1), ("s-a", 2), ("s-b", 9), ("s-c", 3))))
        await store.record_fill(symbol="ETHUSDT", link="m-x", ts_ms=t)
        assert await store.owners() == {"BTCUSDT": {"s-a": t + 5, "s-b": t + 9, "s-c": t + 3},
                                        "ETHUSDT": {"m-x": t}}
        await store.position_flat(symbol="BTCUSDT", ts_ms=t + 4)
        await store.position_flat(symbol="SOLUSDT", ts_ms=t)  # nothing recorded: nothing happens
        assert await store.owners() == {"BTCUSDT": {"s-a": t + 5, "s-b": t + 9}, "ETHUSDT": {"m-x": t}}
        await store.position_flat(symbol="BTCUSDT", ts_ms=t + 9)
        assert await store.owners() == {"ETHUSDT": {"m-x": t}}
    finally:
        await r.aclose()


async def test_an_execution_is_first_seen_once_and_the_record_stays_bounded(redis_url, monkeypatch):
    monkeypatch.setattr("execution_service.store.FILLS_KEPT", 3)
    r = aioredis.Redis.from_url(redis_url)
    store = Store(r)
    try:
        assert [await store.first_seen(f"e{n}", 1_000 + n) for n in range(5)] == [True] * 5
        assert not await store.first_seen("e4", 1_004)
        assert await r.zrange(c.EXEC_FILLS_KEY, 0, -1) == [b"e2", b"e3", b"e4"]  # the newest three
    finally:
        await r.aclose()
