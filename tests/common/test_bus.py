"""common.bus against a real redis-server: bounded streams, consumer groups, dead letters, retries."""

from __future__ import annotations

import asyncio
import re

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from common import constants as c
from common.bus import Bus, Consumer
from common.schemas import Alert, DeadLetter, Message, Severity, Trade, decode, encode, now_ns
from tests.support import ROOT, wait_until_async

pytestmark = pytest.mark.service


def trade(n: int, symbol: str = "BTCUSDT") -> Trade:
    return Trade(symbol=symbol, trade_id=str(n), side="Buy", price="100.5", size="1",
                 exchange_ts_ns=1, received_ts_ns=2)


@pytest.fixture
async def bus(redis_url):
    b = Bus(redis_url, service="test", maxlen=1000)
    yield b
    await b.close()


async def run_until(consumer: Consumer, predicate, timeout: float = 20) -> None:
    """Run `consumer` until `predicate()` holds, then stop it the graceful way."""
    task = asyncio.create_task(consumer.run())

    def reached() -> bool:
        assert not task.done(), task.exception()
        return predicate()

    try:
        await wait_until_async(reached, timeout=timeout, interval=0.02, what="the consumer's work")
    finally:
        consumer.stop()
        await asyncio.wait_for(task, timeout)


async def _blocked_clients(bus: Bus) -> int:
    return (await bus.redis.info("clients"))["blocked_clients"]


async def stream_messages(bus: Bus, stream: str) -> list[Message]:
    return [decode(fields[c.PAYLOAD_FIELD]) for _, fields in await bus.redis.xrange(stream)]


def test_stream_names_live_in_constants_only():
    assert len(set(c.ALL_STREAMS)) == len(c.ALL_STREAMS)
    literal = re.compile("|".join(rf"[\"']{re.escape(s)}[\"']" for s in c.ALL_STREAMS))
    constants = ROOT / "common/src/common/constants.py"
    offenders = [str(p.relative_to(ROOT)) for p in ROOT.glob("*/src/**/*.py")
                 if p != constants and literal.search(p.read_text(errors="replace"))]
    assert offenders == [], "stream names belong in common/constants.py"


async def test_publish_keeps_streams_bounded(bus):
    for start in range(0, 5000, 500):
        await bus.publish_many([(c.MARKET_TRADES, trade(n)) for n in range(start, start + 500)])
    for n in range(500):
        await bus.publish(c.MARKET_BOOK if n % 2 else c.MARKET_TRADES, trade(n))
    # MAXLEN ~ trims whole radix-tree nodes (100 entries by default), so a little over maxlen stays.
    assert 1000 <= await bus.redis.xlen(c.MARKET_TRADES) < 1200
    assert await bus.redis.xlen(c.MARKET_BOOK) == 250


@pytest.mark.parametrize("protocol", [2, 3])
async def test_consumer_handles_in_batches_and_acks_everything(redis_url, protocol):
    """Through both reply shapes of XREADGROUP (RESP2 pairs, RESP3 map): the consumer parses them itself."""
    bus = Bus(f"{redis_url}?protocol={protocol}", service="test", maxlen=1000)
    try:
        await _handles_in_batches_and_acks_everything(bus)
    finally:
        await bus.close()


async def _handles_in_batches_and_acks_everything(bus: Bus) -> None:
    got: list[Trade] = []

    async def handler(msg: Trade) -> None:
        got.append(msg)

    await bus.publish_many([(c.MARKET_TRADES, trade(n)) for n in range(250)])
    consumer = Consumer(bus, stream=c.MARKET_TRADES, group="g", name="c1", handler=handler,
                        types=(Trade,), batch=100, start_id="0")
    await run_until(consumer, lambda: len(got) == 250)
    assert [m.trade_id for m in got] == [str(n) for n in range(250)]
    assert (await bus.redis.xpending(c.MARKET_TRADES, "g"))["pending"] == 0
    assert consumer.handled == 250 and consumer.dead_lettered == 0


async def test_a_consumer_cancelled_in_a_blocking_read_leaves_no_reply_for_the_next_command(bus):
    """The read's reply arrives after the cancel: on a connection given back to the pool as it was, a
    later command of the service would read that reply as its own."""
    consumer = Consumer(bus, stream=c.MARKET_TRADES, group="g", name="c1", handler=lambda m: asyncio.sleep(0),
                        block_ms=30_000)
    task = asyncio.create_task(consumer.run())
    await wait_until_async(lambda: _blocked_clients(bus), timeout=10, interval=0.02,
                           what="the consumer blocked in its read")
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    # its connection is closed, not left blocked on the server until the read's 30 s are up
    async def none_blocked() -> bool:
        return await _blocked_clients(bus) == 0

    await wait_until_async(none_blocked, timeout=5, interval=0.02, what="no blocked client")
    await bus.publish(c.MARKET_TRADES, trade(1))  # what the cancelled read would have been given
    await asyncio.sleep(0.1)
    for n in range(20):  # whichever pooled connection each takes
        assert await bus.redis.echo(f"echo {n}") == f"echo {n}".encode()


async def test_a_stream_deleted_under_a_blocked_consumer_is_recreated_and_consumed_again(bus):
    """Redis answers a read blocked on a deleted stream with UNBLOCKED (not NOGROUP): the consumer must
    recreate the group as after a Redis restart, not die with its service's stream unread."""
    got: list[Trade] = []

    async def handler(msg: Trade) -> None:
        got.append(msg)

    consumer = Consumer(bus, stream=c.MARKET_TRADES, group="g", name="c1", handler=handler, block_ms=5000)
    task = asyncio.create_task(consumer.run())
    await wait_until_async(lambda: _blocked_clients(bus), timeout=10, interval=0.02, what="the consumer blocked")
    await bus.redis.delete(c.MARKET_TRADES)

    async def group_back() -> bool:
        return bool(await bus.group_lag(c.MARKET_TRADES, "g") is not None)

    await wait_until_async(group_back, timeout=10, interval=0.02, what="the group recreated")
    assert not task.done(), task.exception()
    await bus.publish(c.MARKET_TRADES, trade(7))
    await wait_until_async(lambda: got, timeout=10, interval=0.02, what="the message after the delete")
    assert [m.trade_id for m in got] == ["7"]
    consumer.stop()
    await asyncio.wait_for(task, 10)


async def test_bad_entries_go_to_the_dlq_with_an_alert_and_the_consumer_goes_on(bus):
    got: list[Trade] = []

    async def handler(msg: Trade) -> None:
        if msg.symbol == "BOOM":
            raise ValueError("cannot trade BOOM")
        got.append(msg)

    alert = Alert(key="k", severity=Severity.INFO, source="x", title="t", ts_ns=now_ns())
    bad = [
        ({c.PAYLOAD_FIELD: b"\xc1 not msgpack"}, "decode"),
        ({c.PAYLOAD_FIELD: b"\x81\xa4type\xa4nope"}, "decode"),  # msgpack, unknown message type
        ({b"other": b"x"}, "decode: entry has no 'd' field"),
        ({c.PAYLOAD_FIELD: encode(alert)}, "unexpected message type Alert"),
        ({c.PAYLOAD_FIELD: encode(trade(0, symbol="BOOM"))}, "handler: ValueError: cannot trade BOOM"),
    ]
    ids = {}
    for n, (fields, error) in enumerate(bad):
        await bus.publish(c.MARKET_TRADES, trade(n))
        ids[(await bus.redis.xadd(c.MARKET_TRADES, fields)).decode()] = error
    await bus.publish(c.MARKET_TRADES, trade(99))

    consumer = Consumer(bus, stream=c.MARKET_TRADES, group="g", name="c1", handler=handler,
                        types=(Trade,), start_id="0")
    await run_until(consumer, lambda: len(got) == len(bad) + 1)

    letters = [m for m in await stream_messages(bus, c.SYS_DLQ) if isinstance(m, DeadLetter)]
    assert {d.entry_id for d in letters} == set(ids)
    for d in letters:
        assert d.stream == c.MARKET_TRADES and d.group == "g" and d.consumer == "c1"
        assert d.error.startswith(ids[d.entry_id]) or ids[d.entry_id] in d.error
    assert letters[0].raw == b"\xc1 not msgpack"
    alerts = [m for m in await stream_messages(bus, c.SYS_ALERTS) if isinstance(m, Alert)]
    assert len(alerts) == len(bad) and {a.key for a in alerts} == {c.dlq_alert_key(c.MARKET_TRADES)}
    assert (await bus.redis.xpending(c.MARKET_TRADES, "g"))["pending"] == 0
    assert consumer.dead_lettered == len(bad)


async def test_prepare_sees_each_reads_good_messages_before_their_handlers_and_is_only_a_shortcut(bus):
    events: list[tuple[str, list[str]]] = []

    async def prepare(msgs: list[Trade]) -> None:
        events.append(("prepare", [m.trade_id for m in msgs]))
        if "7" in [m.trade_id for m in msgs]:
            raise ValueError("a prepare bug")

    async def handler(msg: Trade) -> None:
        events.append(("handle", [msg.trade_id]))

    await bus.publish_many([(c.MARKET_TRADES, trade(n)) for n in range(3)])
    await bus.redis.xadd(c.MARKET_TRADES, {c.PAYLOAD_FIELD: b"\xc1 not msgpack"})
    await bus.publish_many([(c.MARKET_TRADES, trade(n)) for n in range(3, 8)])
    consumer = Consumer(bus, stream=c.MARKET_TRADES, group="g", name="c1", handler=handler,
                        types=(Trade,), batch=4, start_id="0", prepare=prepare)
    await run_until(consumer, lambda: consumer.handled == 8)
    assert events == [("prepare", ["0", "1", "2"]), ("handle", ["0"]), ("handle", ["1"]), ("handle", ["2"]),
                      ("prepare", ["3", "4", "5", "6"]), *[("handle", [n]) for n in "3456"],
                      ("prepare", ["7"]), ("handle", ["7"])]  # a failed prepare: handled all the same
    assert consumer.dead_lettered == 1
    assert (await bus.redis.xpending(c.MARKET_TRADES, "g"))["pending"] == 0


async def test_flush_runs_after_a_reads_handlers_before_their_acks_and_again_when_redis_was_lost(bus):
    seen: list[str] = []
    flushed: list[tuple[list[str], int]] = []  # (the trades it found handled, entries not yet acked)
    lost = [RedisConnectionError("Connection closed by server.")]

    async def handler(msg: Trade) -> None:
        seen.append(msg.trade_id)

    async def flush() -> None:
        if not seen:
            return
        if lost:
            raise lost.pop()
        flushed.append((seen[:], (await bus.redis.xpending(c.MARKET_TRADES, "g"))["pending"]))
        seen.clear()

    await bus.publish_many([(c.MARKET_TRADES, trade(n)) for n in range(5)])
    consumer = Consumer(bus, stream=c.MARKET_TRADES, group="g", name="c1", handler=handler,
                        types=(Trade,), start_id="0", flush=flush)
    await run_until(consumer, lambda: bool(flushed))
    assert flushed == [(["0", "1", "2", "3", "4"], 5)]  # handled once, none acked before the flush held
    assert (await bus.redis.xpending(c.MARKET_TRADES, "g"))["pending"] == 0


async def test_a_handler_that_loses_redis_is_retried_not_dead_lettered(bus):
    attempts: list[str] = []
    done: list[str] = []

    async def handler(msg: Trade) -> None:
        attempts.append(msg.trade_id)
        if msg.trade_id == "1" and attempts.count("1") == 1:
            raise RedisConnectionError("Connection closed by server.")
        done.append(msg.trade_id)

    await bus.publish_many([(c.MARKET_TRADES, trade(n)) for n in range(3)])
    consumer = Consumer(bus, stream=c.MARKET_TRADES, group="g", name="c1", handler=handler, start_id="0")
    await run_until(consumer, lambda: len(done) == 3)
    assert done == ["0", "1", "2"], "each handled once: what was handled before the error was acked"
    assert await bus.redis.xlen(c.SYS_DLQ) == 0
    assert (await bus.redis.xpending(c.MARKET_TRADES, "g"))["pending"] == 0


async def test_a_stale_pending_entry_of_a_dead_consumer_is_claimed(bus):
    await bus.publish_many([(c.MARKET_TRADES, trade(n)) for n in range(5)])
    await bus.redis.xgroup_create(c.MARKET_TRADES, "g", id="0")
    # "dead" read three entries and never acked them.
    await bus.redis.xreadgroup("g", "dead", {c.MARKET_TRADES: ">"}, count=3)
    got: list[str] = []

    async def handler(msg: Trade) -> None:
        got.append(msg.trade_id)

    consumer = Consumer(bus, stream=c.MARKET_TRADES, group="g", name="alive", handler=handler,
                        claim_min_idle_ms=50)

    async def claimable() -> bool:  # idle past claim_min_idle_ms: what XAUTOCLAIM takes over
        pending = await bus.redis.xpending_range(c.MARKET_TRADES, "g", min="-", max="+", count=10)
        return all(p["time_since_delivered"] > 50 for p in pending)

    await wait_until_async(claimable, timeout=5, what="the dead consumer's entries idle for 50 ms")
    await run_until(consumer, lambda: len(got) == 5)
    assert sorted(got) == ["0", "1", "2", "3", "4"]
    assert (await bus.redis.xpending(c.MARKET_TRADES, "g"))["pending"] == 0
