"""The coalescing publisher against a real redis-server that is slow, then gone, then back."""

from __future__ import annotations

import asyncio

import pytest
import redis

from common import constants as c
from common.bus import Bus
from common.bybit.schemas.envelope import PublicMsg
from common.bybit.schemas.orderbook import OrderbookData
from common.bybit.schemas.trade import PublicTrade
from common.health import Progress
from common.schemas import BookTop, Trade, decode
from market_service.market import Market
from market_service.publisher import Publisher
from tests.support import wait_until_async

pytestmark = pytest.mark.service

SYMBOLS = ("BTCUSDT", "ETHUSDT")


def wire(url: str) -> tuple[Bus, Market, Publisher]:
    bus = Bus(url, service="market")
    market = Market.publishing_to(bus, resync=lambda s, r: None, flow_window_s=60, vol_window_s=60,
                                  imbalance_levels=5, publish_levels=10)
    for s in SYMBOLS:
        market.add(s)
    return bus, market, market.publisher


def book_msg(symbol: str, u: int, bid: int):
    data = OrderbookData(s=symbol, b=[(str(bid), "1")], a=[(str(bid + 1), "2")], u=u, seq=u)
    return PublicMsg(topic=f"orderbook.50.{symbol}", type="snapshot", ts=1, data=data)  # each replaces


def trade_msg(symbol: str, n: int):
    t = PublicTrade(T=n, s=symbol, S="Buy", v="0.1", p="100", L="PlusTick", i=f"{symbol}-{n}")
    return PublicMsg(topic=f"publicTrade.{symbol}", type="snapshot", ts=n, data=[t])


def entries(url: str, stream: str) -> list:
    client = redis.Redis.from_url(url)
    try:
        return [decode(f[c.PAYLOAD_FIELD]) for _, f in client.xrange(stream)]
    finally:
        client.close()


async def test_a_slow_bus_coalesces_books_and_keeps_every_trade(redis_url):
    bus, market, publisher = wire(redis_url)
    task = asyncio.create_task(publisher.run(Progress("publisher")))
    try:
        pauser = redis.Redis.from_url(redis_url)
        pauser.execute_command("CLIENT", "PAUSE", "1500", "WRITE")  # every XADD waits 1.5 s
        pauser.close()
        for u in range(1, 2001):
            for s in SYMBOLS:
                market.on_message(book_msg(s, u, 1000 + u % 50))
            market.on_message(trade_msg("BTCUSDT", u))
            if u % 100 == 0:
                await asyncio.sleep(0)  # the feed yields as a socket read would
        await wait_until_async(lambda: publisher.published_trades == 2000, timeout=30,
                               what="2000 trades published")
        await wait_until_async(lambda: not publisher._dirty, timeout=30, what="every book published")
    finally:
        task.cancel()
        await bus.close()
    books = [b for b in entries(redis_url, c.MARKET_BOOK) if isinstance(b, BookTop)]
    assert len(books) < 200  # 4000 updates, a few dozen messages: folded, not queued
    assert publisher.coalesced == 4000 - len(books)
    for s in SYMBOLS:  # latest wins: the last message of each symbol is its last update
        last = [b for b in books if b.symbol == s][-1]
        assert last.u == 2000 and last.bids == [(str(1000 + 2000 % 50), "1")] and not last.stale
    trades = [t.trade_id for t in entries(redis_url, c.MARKET_TRADES) if isinstance(t, Trade)]
    assert trades == [f"BTCUSDT-{n}" for n in range(1, 2001)]


async def test_trades_survive_a_redis_outage_in_order(own_redis, caplog):
    bus, market, publisher = wire(own_redis.url)
    task = asyncio.create_task(publisher.run(Progress("publisher")))
    try:
        for n in range(1, 101):
            market.on_message(trade_msg("ETHUSDT", n))
        await wait_until_async(lambda: publisher.published_trades == 100, timeout=30,
                               what="100 trades published")
        own_redis.stop()
        for n in range(101, 301):
            market.on_message(trade_msg("ETHUSDT", n))
            market.on_message(trade_msg("ETHUSDT", n))  # a replay after a reconnect is dropped
        await wait_until_async(lambda: any(r.msg == "publish_failed" for r in caplog.records), timeout=10,
                               what="the publisher failing (and retrying) while Redis is away")
        own_redis.start()
        await wait_until_async(lambda: publisher.published_trades == 300, timeout=30,
                               what="300 trades published")
    finally:
        task.cancel()
        await bus.close()
    trades = [t.trade_id for t in entries(own_redis.url, c.MARKET_TRADES) if isinstance(t, Trade)]
    assert trades == [f"ETHUSDT-{n}" for n in range(1, 301)]
    assert market.counts["duplicate"] == 200


async def test_a_full_trade_buffer_holds_the_feed_back_until_the_bus_takes_them(own_redis, monkeypatch):
    monkeypatch.setattr("market_service.publisher.TRADE_BUFFER_MAX", 50)
    bus, market, publisher = wire(own_redis.url)
    own_redis.stop()
    task = asyncio.create_task(publisher.run(Progress("publisher")))
    try:
        for n in range(1, 61):
            market.on_message(trade_msg("BTCUSDT", n))
        assert publisher.full
        held = asyncio.create_task(publisher.wait_room())  # what the WS read loop awaits
        # Nothing else happens for 0.3 s (a few of the publisher's failing rounds): the feed stays held,
        # no trade is thrown away to make room.
        await asyncio.sleep(0.3)
        assert not held.done()
        own_redis.start()
        await asyncio.wait_for(held, 30)
        await wait_until_async(lambda: publisher.published_trades == 60, timeout=30,
                               what="60 trades published")
    finally:
        task.cancel()
        await bus.close()
    trades = [t.trade_id for t in entries(own_redis.url, c.MARKET_TRADES) if isinstance(t, Trade)]
    assert trades == [f"BTCUSDT-{n}" for n in range(1, 61)]
