"""Redis Streams bus: bounded publishing and consumer groups that never lose an acked message.

Rules (DESIGN.md section 3): publish with `MAXLEN ~`; consume with XREADGROUP in batches, handle,
then XACK (acks ride in the same round trip as the next read); on start a consumer re-reads its own
pending entries and XAUTOCLAIMs the stale ones of dead consumers; an entry that cannot be decoded or
whose handler raises goes to `sys.dlq` with the error and an alert, and is acked; when Redis is lost
(also under a handler that uses it) the consumer reconnects with backoff and handles the entry again,
and nothing is acked before it is handled.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence

import redis.asyncio as aioredis
from redis.backoff import EqualJitterBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from common import constants as c
from common import metrics
from common.dedicated_connection import DedicatedConnection
from common.schemas import Alert, DeadLetter, Message, Severity, decode, encode, now_ns

log = logging.getLogger(__name__)

Handler = Callable[[Message], Awaitable[None]]
Prepare = Callable[[list[Message]], Awaitable[None]]
Flush = Callable[[], Awaitable[None]]
# Errors that mean "Redis is unreachable right now": back off and try again.
REDIS_DOWN = (RedisConnectionError, RedisTimeoutError, ConnectionError, OSError)
# Raised by a handler, these mean the handler's Redis went away, not that the message is bad: the
# entry stays pending and is handled again after the reconnect instead of going to sys.dlq.
HANDLER_REDIS_DOWN = (RedisConnectionError, RedisTimeoutError)
# Redis's answers when a consumer's group is gone (a Redis restart without the data, XGROUP DESTROY) or,
# under a blocked read, its stream (DEL, FLUSHALL): "UNBLOCKED the stream key no longer exists".
GROUP_GONE = ("NOGROUP", "UNBLOCKED")


def backoff() -> EqualJitterBackoff:
    """Reconnect delays: 0.1 s doubling to a 5 s cap, half of each drawn at random."""
    return EqualJitterBackoff(cap=5.0, base=0.1)


class Bus:
    """One service's connection to the bus: publishing, and the factory for its consumers."""

    def __init__(self, url: str, *, service: str, maxlen: int = 100_000) -> None:
        self.service = service
        self.maxlen = maxlen
        self.redis = aioredis.from_url(
            url, socket_connect_timeout=2, socket_timeout=10, socket_keepalive=True,
            health_check_interval=0,
        )
        self._sent: dict[str, metrics.Counter] = {}  # labelled children, looked up once per stream

    def _count_sent(self, stream: str) -> None:
        counter = self._sent.get(stream)
        if counter is None:
            counter = self._sent[stream] = metrics.BUS_MESSAGES_OUT.labels(stream)
        counter.inc()

    async def wait_ready(self, report: Callable[[str], None], stop: asyncio.Event) -> bool:
        """Ping until Redis answers, reporting each failure; False when asked to stop first."""
        delays, failures = backoff(), 0
        while not stop.is_set():
            try:
                await self.redis.ping()
                return True
            except REDIS_DOWN as e:
                failures += 1
                report(f"waiting for Redis ({type(e).__name__}: {e}), attempt {failures}")
                try:
                    await asyncio.wait_for(stop.wait(), delays.compute(failures))
                except TimeoutError:
                    pass
        return False

    async def publish(self, stream: str, msg: Message) -> bytes:
        entry_id = await self.redis.xadd(
            stream, {c.PAYLOAD_FIELD: encode(msg)}, maxlen=self.maxlen, approximate=True
        )
        self._count_sent(stream)
        return entry_id

    async def publish_many(self, items: Sequence[tuple[str, Message]]) -> list[bytes]:
        """Publish in one round trip (one pipeline, no transaction)."""
        async with self.redis.pipeline(transaction=False) as pipe:
            for stream, msg in items:
                pipe.xadd(stream, {c.PAYLOAD_FIELD: encode(msg)}, maxlen=self.maxlen, approximate=True)
            ids = await pipe.execute()
        for stream, _ in items:
            self._count_sent(stream)
        return ids

    async def alert(self, *, key: str, severity: Severity, title: str, detail: str = "") -> None:
        await self.publish(
            c.SYS_ALERTS,
            Alert(key=key, severity=severity, source=self.service, title=title, detail=detail, ts_ns=now_ns()),
        )

    async def dead_letter(self, *, stream: str, raw: bytes | str, error: str, entry_id: str = "",
                          group: str = "", consumer: str = "") -> None:
        """Park what could not be decoded or handled in sys.dlq, with the reason and an alert.

        `stream` names where it came from: a bus stream, or an exchange WebSocket's URL."""
        raw = raw.encode() if isinstance(raw, str) else raw
        letter = DeadLetter(stream=stream, entry_id=entry_id, group=group, consumer=consumer or self.service,
                            error=error[:2000], raw=raw, ts_ns=now_ns())
        alert = Alert(key=c.dlq_alert_key(stream), severity=Severity.WARN, source=self.service,
                      title=f"message on {stream} sent to {c.SYS_DLQ}", detail=error[:500], ts_ns=now_ns())
        await self.publish_many([(c.SYS_DLQ, letter), (c.SYS_ALERTS, alert)])

    async def run_id(self) -> str:
        """The Redis server's run_id (INFO server), new at every start of redis-server: a changed one
        means Redis restarted, and whatever it had not persisted is gone."""
        return (await self.redis.info("server"))["run_id"]

    async def group_lag(self, stream: str, group: str) -> int | None:
        """Entries in `stream` not yet delivered to `group` (Redis 7 XINFO GROUPS `lag`)."""
        try:
            groups = await self.redis.xinfo_groups(stream)
        except ResponseError:  # no such stream yet
            return None
        for g in groups:
            if g["name"].decode() == group:
                return g.get("lag") or 0
        return None

    async def close(self) -> None:
        await self.redis.aclose()


class Consumer:
    """Reads one stream through a consumer group and hands each message to `handler`.

    Delivery is at least once: after a crash, entries that were read but not acked are read again
    (our own pending on restart, or by XAUTOCLAIM from another consumer), so handlers are idempotent.
    """

    def __init__(
        self, bus: Bus, *, stream: str, group: str, name: str, handler: Handler,
        types: tuple[type[Message], ...] | None = None, batch: int = c.CONSUMER_BATCH,
        block_ms: int = c.CONSUMER_BLOCK_MS, claim_min_idle_ms: int = c.CLAIM_MIN_IDLE_MS,
        start_id: str = "$", on_progress: Callable[[], None] = lambda: None, prepare: Prepare | None = None,
        flush: Flush | None = None,
    ) -> None:
        self.bus, self.stream, self.group, self.name = bus, stream, group, name
        self.handler, self.types = handler, types
        # called with each read's decoded messages before they are handled one by one, so the handler's
        # round trips for them can go together; only a shortcut: the handler is right without it
        self.prepare = prepare
        # called after each read's messages are handled and before any of them is acked: what the
        # handlers left for the read as a whole (the strategy's outputs, published together) is done here
        self.flush = flush
        self.batch, self.block_ms, self.claim_min_idle_ms = batch, block_ms, claim_min_idle_ms
        self.start_id = start_id  # where a new group starts: "$" = only new entries, "0" = everything
        self.on_progress = on_progress
        self._m_in = metrics.BUS_MESSAGES_IN.labels(stream)
        self._m_seconds = metrics.BUS_HANDLER_SECONDS.labels(stream)
        self._m_dead = metrics.BUS_DEAD_LETTERS.labels(stream)
        self.handled = 0
        self.dead_lettered = 0
        self.last_error = ""
        self.entry_id = b""  # the id of the entry being handled, for a handler that keeps a cursor
        self._stopping = False
        self._acks: list[bytes] = []
        self._reads = DedicatedConnection(bus.redis)  # the ack + read loop's own connection

    def __repr__(self) -> str:
        return (f"Consumer({self.stream}/{self.group}/{self.name} handled={self.handled} "
                f"dead_lettered={self.dead_lettered})")

    def stop(self) -> None:
        """Finish the batch in hand, ack it, and return from run()."""
        self._stopping = True

    async def run(self) -> None:
        try:
            await self._run()
        finally:
            await self._reads.release()

    async def _run(self) -> None:
        delays, failures = backoff(), 0
        while not self._stopping:
            try:
                await self._ensure_group()
                await self._catch_up()
                failures = 0
                await self._read_new()
            except asyncio.CancelledError:
                raise
            except REDIS_DOWN as e:
                failures += 1
                metrics.BUS_RECONNECTS.inc()
                self.last_error = f"redis: {type(e).__name__}: {e}"
                log.warning("bus_reconnect", extra={"ctx": {"stream": self.stream, "attempt": failures,
                                                            "error": str(e)}})
                self.on_progress()  # waiting for Redis is expected, not a hang
                await asyncio.sleep(delays.compute(failures))
            except ResponseError as e:
                if not str(e).startswith(GROUP_GONE):  # the group or its stream vanished: recreate them
                    raise
        if self._acks:
            await self._flush_acks()

    async def _ensure_group(self) -> None:
        try:
            await self.bus.redis.xgroup_create(self.stream, self.group, id=self.start_id, mkstream=True)
        except ResponseError as e:
            if "BUSYGROUP" not in str(e):
                raise

    async def _catch_up(self) -> None:
        """Handle our own pending entries, then those that dead consumers left idle."""
        await self._flush_acks()  # handled before Redis was lost: ack, so they are not read again
        while not self._stopping:
            [reply] = await self._reads.round([("XREADGROUP", "GROUP", self.group, self.name, "COUNT", self.batch,
                                                "STREAMS", self.stream, "0")])
            entries = _entries(reply)
            if not entries:
                break
            await self._handle(entries)
            await self._flush_acks()
        await self.claim_stale()

    async def claim_stale(self) -> int:
        """XAUTOCLAIM entries idle longer than claim_min_idle_ms and handle them; returns how many."""
        start, claimed = "0-0", 0
        while not self._stopping:
            nxt, entries, *_ = await self.bus.redis.xautoclaim(
                self.stream, self.group, self.name, self.claim_min_idle_ms, start_id=start, count=self.batch)
            entries = [e for e in entries if e[1] is not None]  # trimmed entries come back as nil
            if entries:
                claimed += len(entries)
                await self._handle(entries)
                await self._flush_acks()
            if nxt in (b"0-0", "0-0"):
                break
            start = nxt
        return claimed

    async def _read_new(self) -> None:
        """The hot loop: the last read's acks and the next blocking read in one round trip."""
        last_claim = time.monotonic()
        read = ("XREADGROUP", "GROUP", self.group, self.name, "COUNT", self.batch, "BLOCK", self.block_ms,
                "STREAMS", self.stream, ">")
        while not self._stopping:
            commands = [("XACK", self.stream, self.group, *self._acks), read] if self._acks else [read]
            replies = await self._reads.round(commands, blocking_s=self.block_ms / 1000)
            self._acks.clear()  # the XACK went out with the read
            self.on_progress()
            entries = _entries(replies[-1])
            if entries:
                await self._handle(entries)
            if time.monotonic() - last_claim > self.claim_min_idle_ms / 1000:
                await self.claim_stale()
                last_claim = time.monotonic()

    async def _handle(self, entries: list) -> None:
        decoded = []
        for entry_id, fields in entries:
            raw = fields.get(c.PAYLOAD_FIELD)
            try:
                if raw is None:
                    raise ValueError(f"entry has no {c.PAYLOAD_FIELD.decode()!r} field")
                msg = decode(raw)
                if self.types is not None and not isinstance(msg, self.types):
                    raise TypeError(f"unexpected message type {type(msg).__name__} on {self.stream}")
            except (ValueError, TypeError) as e:  # DecodeError is a ValueError
                await self._dead_letter(entry_id, raw, f"decode: {e}")
                continue
            decoded.append((entry_id, raw, msg))
        if self.prepare is not None and decoded:
            try:
                await self.prepare([msg for _, _, msg in decoded])
            except (asyncio.CancelledError, *HANDLER_REDIS_DOWN):
                raise
            except Exception:  # a shortcut that failed: each handler does its own work
                log.exception("prepare_failed", extra={"ctx": {"stream": self.stream}})
        for entry_id, raw, msg in decoded:
            started = time.perf_counter()
            self.entry_id = entry_id
            try:
                await self.handler(msg)
            except (asyncio.CancelledError, *HANDLER_REDIS_DOWN):
                raise
            except Exception as e:  # a handler bug must not kill the consumer
                log.exception("handler_failed", extra={"ctx": {"stream": self.stream}})
                await self._dead_letter(entry_id, raw, f"handler: {type(e).__name__}: {e}")
                continue
            self._m_seconds.observe(time.perf_counter() - started)
            self._m_in.inc()
            self.handled += 1
            self._acks.append(entry_id)
            self.on_progress()
        await self._flush_read()

    async def _flush_read(self) -> None:
        """The `flush` hook, before acks go out; Redis lost: raised (nothing acked, tried again first)."""
        if self.flush is None:
            return
        try:
            await self.flush()
        except (asyncio.CancelledError, *HANDLER_REDIS_DOWN):
            raise
        except Exception:  # a bug there loses what it was given, as a handler bug does; the consumer goes on
            log.exception("flush_failed", extra={"ctx": {"stream": self.stream}})

    async def _dead_letter(self, entry_id: bytes, raw: bytes | None, error: str) -> None:
        """Park the entry in sys.dlq and raise an alert; it is acked only after both are stored."""
        self.dead_lettered += 1
        self.last_error = error
        self._m_dead.inc()
        await self.bus.dead_letter(stream=self.stream, raw=raw or b"", error=error,
                                   entry_id=entry_id.decode(), group=self.group, consumer=self.name)
        self._acks.append(entry_id)

    async def _flush_acks(self) -> None:
        await self._flush_read()  # after a lost Redis: what the handled entries left, before their acks
        if self._acks:
            await self.bus.redis.xack(self.stream, self.group, *self._acks)
            self._acks.clear()


def _entries(reply: dict | list | None) -> list[tuple[bytes, dict[bytes, bytes]]]:
    """A one-stream XREADGROUP reply's entries as (id, fields): RESP3 gives {stream: entries}, RESP2
    [[stream, entries]], and nothing read gives None; each entry's fields come as a flat list, or as
    nil for a pending entry trimmed since it was read (handled as one without the payload field)."""
    if not reply:
        return []
    [(_, entries)] = reply.items() if isinstance(reply, dict) else reply
    return [(entry_id, dict(zip(flat[::2], flat[1::2], strict=True)) if flat else {}) for entry_id, flat in entries]
