"""The bus under faults, with real processes: kill -9 mid-batch, Redis restarts, garbage on every stream."""

from __future__ import annotations

import asyncio
import signal

import pytest
import redis

from common import constants as c
from common.bus import REDIS_DOWN, Bus
from common.schemas import (BookTop, Command, ControlCommand, DeadLetter, Message, OrderEvent, OrderIntent,
                            Signal, Trade, decode, encode, now_ns)
from tests.common.conftest import log_events, start_module, stop
from tests.common.consumer_app import EFFECTS, SEEN, effect_key
from tests.support import service_env, start_service, wait_until, wait_until_async

pytestmark = pytest.mark.service


def trade(n: int) -> Trade:
    return Trade(symbol="BTCUSDT", trade_id=str(n), side="Sell", price="100", size="2",
                 exchange_ts_ns=n, received_ts_ns=n)


def publish(client: redis.Redis, stream: str, msgs: list[Message]) -> None:
    pipe = client.pipeline(transaction=False)
    for m in msgs:
        pipe.xadd(stream, {c.PAYLOAD_FIELD: encode(m)})
    pipe.execute()


def test_kill_9_mid_batch_pending_entries_are_claimed_and_applied_exactly_once(redis_server, redis_url,
                                                                                 procs, tmp_path):
    client = redis_server.client()
    msgs = [trade(n) for n in range(400)]
    publish(client, c.MARKET_TRADES, msgs)
    env = service_env(redis_url)
    log = tmp_path / "consumers.log"
    args = [redis_url, c.MARKET_TRADES, "--batch=50", "--delay-ms=4", "--claim-idle-ms=500"]
    # a hangs on trade 120, the 21st of its third batch of 50: 100-119 handled but not acked, 120-149 not
    # yet handled; then it is killed there, mid-batch, whatever the machine's load.
    procs.append(a := start_module("consumer_app", *args, "--name=a", "--hang-at=120", env=env, log_path=log))
    wait_until(lambda: client.hlen(SEEN) == 120, timeout=30, what="consumer a to hang mid-batch")
    a.send_signal(signal.SIGKILL)
    a.wait(timeout=10)

    pending = client.xpending(c.MARKET_TRADES, "test")
    assert pending["pending"] > 0 and {p["name"] for p in pending["consumers"]} == {b"a"}
    applied_by_a = client.hlen(EFFECTS)
    assert applied_by_a < len(msgs)

    procs.append(b := start_module("consumer_app", *args, "--name=b", env=env, log_path=log))
    wait_until(lambda: client.hlen(EFFECTS) == len(msgs), timeout=60, what="consumer b to finish the stream")
    wait_until(lambda: client.xpending(c.MARKET_TRADES, "test")["pending"] == 0, timeout=30,
               what="every entry acked")
    assert stop(b) == 0

    effects = {k.decode(): v.decode() for k, v in client.hgetall(EFFECTS).items()}
    assert set(effects) == {effect_key(m) for m in msgs}, "every message applied"
    seen = {k.decode(): int(v) for k, v in client.hgetall(SEEN).items()}
    redelivered = [k for k, n in seen.items() if n > 1]
    assert redelivered, "a's handled-but-unacked entries must have reached b again"
    assert all(effects[k] == "a" for k in redelivered), "the redelivery was a no-op: applied once, by a"
    assert "b" in effects.values()
    client.close()


def test_redis_restart_loses_no_acknowledged_message(own_redis, procs, tmp_path):
    client = own_redis.client()
    env = service_env(own_redis.url)
    log = tmp_path / "consumer.log"
    procs.append(cons := start_module("consumer_app", own_redis.url, c.EXEC_EVENTS, "--batch=20",
                                      "--delay-ms=1", env=env, log_path=log))
    events = [OrderEvent(order_link_id=f"o{n}", order_id=str(n), symbol="ETHUSDT", side="Buy", status="New",
                         order_type="Limit", qty="1", ts_ns=n) for n in range(600)]
    accepted: list[OrderEvent] = []  # every XADD that Redis acknowledged with an entry id
    for n, ev in enumerate(events):
        if n == 300:
            wait_until(lambda r=client: r.hlen(EFFECTS) >= 100, timeout=30, what="consumer to be mid-work")
            own_redis.stop(signal.SIGKILL)  # appendfsync always: everything acknowledged is on disk
            own_redis.start()
            client = own_redis.client()
        client.xadd(c.EXEC_EVENTS, {c.PAYLOAD_FIELD: encode(ev)})
        accepted.append(ev)

    wait_until(lambda: client.hlen(EFFECTS) == len(accepted), timeout=90, what="every accepted message handled")
    wait_until(lambda: client.xpending(c.EXEC_EVENTS, "test")["pending"] == 0, timeout=30, what="all acked")
    assert stop(cons) == 0
    assert {k.decode() for k in client.hkeys(EFFECTS)} == {effect_key(e) for e in accepted}
    assert any(e["event"] == "bus_reconnect" for e in log_events(log)), "the consumer saw Redis go"
    client.close()


def test_redis_kill_9_during_a_stream_of_intents_loses_none_acknowledged(own_redis):
    """make run's Redis (own_redis runs its redis.conf) killed while 8 producers publish intents:
    every intent whose Bus.publish returned an id is in the stream after supervisord-like restart."""
    acked: dict[bytes, str] = {}  # entry id -> intent_id, for every publish Redis answered

    async def produce(bus: Bus, k: int, stop: asyncio.Event) -> None:
        n = 0
        while not stop.is_set():
            i = OrderIntent(intent_id=f"i{k}-{n}", symbol="BTCUSDT", side="Buy", qty="0.01", created_ts_ns=n)
            try:
                acked[await bus.publish(c.EXEC_INTENTS, i)] = i.intent_id
                n += 1
            except REDIS_DOWN:
                await asyncio.sleep(0.01)  # Redis is away: the producer was told, and tries again

    async def run() -> None:
        bus, stop = Bus(own_redis.url, service="test"), asyncio.Event()
        producers = [asyncio.create_task(produce(bus, k, stop)) for k in range(8)]
        await wait_until_async(lambda: len(acked) >= 2000, timeout=30, what="the stream under way")
        own_redis.proc.send_signal(signal.SIGKILL)  # mid-stream: publishes in flight
        await asyncio.to_thread(own_redis.proc.wait)
        killed_at = len(acked)
        await asyncio.to_thread(own_redis.start)  # as supervisord does, from the same append-only file
        await wait_until_async(lambda: len(acked) >= killed_at + 2000, timeout=30, what="the stream again")
        stop.set()
        await asyncio.gather(*producers)
        await bus.close()

    asyncio.run(run())
    client = own_redis.client()
    stored = {eid: decode(f[c.PAYLOAD_FIELD]).intent_id for eid, f in client.xrange(c.EXEC_INTENTS)}
    lost = {eid: i for eid, i in acked.items() if stored.get(eid) != i}
    assert not lost, f"{len(lost)} of {len(acked)} acknowledged intents lost, e.g. {list(lost.items())[:3]}"
    client.close()


GARBAGE = [b"\xc1\xc1 garbage", b"\x81\xa4type\xa7unknown", encode(trade(-1))[:-3]]


def test_garbage_on_every_stream_lands_in_the_dlq_and_consumers_go_on(redis_server, redis_url, procs, tmp_path):
    client = redis_server.client()
    env = service_env(redis_url)
    procs.append(dash := start_service("dashboard", env, tmp_path / "dashboard.log"))
    procs.append(worker := start_service("worker", env, tmp_path / "worker.log"))
    rest = [s for s in c.ALL_STREAMS if s not in (c.SYS_HEALTH, c.SYS_CONTROL)]
    procs.append(cons := start_module("consumer_app", redis_url, *rest, env=env,
                                      log_path=tmp_path / "consumer.log"))
    readers = {c.SYS_HEALTH: {c.DASHBOARD}, c.SYS_CONTROL: {c.DASHBOARD, c.WORKER}} | {s: {"test"} for s in rest}

    def groups_ready() -> bool:
        return all({g["name"].decode() for g in _groups(client, s)} >= want for s, want in readers.items())

    wait_until(groups_ready, timeout=60, what="every stream's consumer groups")
    # Services may read more streams than this test knows of: every group present gets garbage too.
    readers = {s: {g["name"].decode() for g in _groups(client, s)} for s in c.ALL_STREAMS}
    garbage = set()  # (stream, entry id)
    for stream in readers:
        garbage |= {(stream, client.xadd(stream, {c.PAYLOAD_FIELD: raw}).decode()) for raw in GARBAGE}
        garbage.add((stream, client.xadd(stream, {b"junk": b"no payload field"}).decode()))
    expected = {(stream, entry_id, g) for stream, entry_id in garbage for g in readers[stream]}

    def dead_letters() -> set:
        return {(m.stream, m.entry_id, m.group) for m in _decoded(client, c.SYS_DLQ) if isinstance(m, DeadLetter)}

    try:
        wait_until(lambda: expected <= dead_letters(), timeout=60, what="a dead letter for every garbage entry")
    except AssertionError as e:
        raise AssertionError(f"{e}; missing: {sorted(expected - dead_letters())}") from None
    alert_keys = {m.key for m in _decoded(client, c.SYS_ALERTS) if hasattr(m, "key")}
    assert {c.dlq_alert_key(s) for s in readers} <= alert_keys

    # Everyone goes on: valid messages after the garbage are handled.
    valid = {c.MARKET_TRADES: trade(1), c.EXEC_EVENTS: OrderEvent(
        order_link_id="x", order_id="1", symbol="BTCUSDT", side="Buy", status="New", order_type="Market",
        qty="1", ts_ns=1), c.EXEC_INTENTS: OrderIntent(intent_id="i", symbol="BTCUSDT", side="Buy", qty="1",
                                                       created_ts_ns=1),
        c.STRATEGY_SIGNALS: Signal(signal_id="s", symbol="BTCUSDT", side="Buy", score=1.0, components={},
                                   reasons=[], profile="p", profile_version=1, exchange_ts_ns=1, received_ts_ns=1),
        c.MARKET_BOOK: BookTop(symbol="BTCUSDT", u=1, bids=[], asks=[], exchange_ts_ns=1, received_ts_ns=1)}
    for stream, msg in valid.items():
        publish(client, stream, [msg])
    wait_until(lambda: {effect_key(m) for m in valid.values()} <= {k.decode() for k in client.hkeys(EFFECTS)},
               timeout=30, what="the test consumer to handle valid messages after the garbage")
    publish(client, c.SYS_CONTROL, [ControlCommand(command_id="1", command=Command.SAFE_MODE_ON, ts_ns=now_ns())])

    def worker_in_safe_mode() -> bool:
        raw = client.get(c.heartbeat_key(c.WORKER))
        return raw is not None and decode(raw).safe_mode

    wait_until(worker_in_safe_mode, timeout=30, what="the worker to obey a command after the garbage")
    last_heartbeat = client.xrevrange(c.SYS_HEALTH, count=1)[0][0]

    def dashboard_caught_up() -> bool:
        group = next(g for g in _groups(client, c.SYS_HEALTH) if g["name"] == c.DASHBOARD.encode())
        return _entry_id(group["last-delivered-id"]) >= _entry_id(last_heartbeat) and group["pending"] == 0

    wait_until(dashboard_caught_up, timeout=30, what="the dashboard to read and ack heartbeats after the garbage")
    assert {(stream, entry_id) for stream, entry_id, _ in dead_letters()} <= garbage, \
        "no valid message was dead-lettered"
    for p in (dash, worker, cons):
        assert p.poll() is None
    assert [stop(p) for p in (cons, worker, dash)] == [0, 0, 0]
    client.close()


def _groups(client: redis.Redis, stream: str) -> list[dict]:
    try:
        return client.xinfo_groups(stream)
    except redis.ResponseError:
        return []


def _entry_id(raw: bytes) -> tuple[int, int]:
    ms, seq = raw.split(b"-")
    return int(ms), int(seq)


def _decoded(client: redis.Redis, stream: str) -> list[Message]:
    out = []
    for _, fields in client.xrange(stream):
        try:
            out.append(decode(fields[c.PAYLOAD_FIELD]))
        except (KeyError, ValueError):
            continue  # the garbage itself
    return out
