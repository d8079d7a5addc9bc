"""WebSocket connections and topic fan-out, with the simulated network latency on every message."""

from __future__ import annotations

import asyncio
import logging
import random
import time
import uuid
from collections import defaultdict
from collections.abc import Callable

from aiohttp import web

log = logging.getLogger(__name__)

# A client this far behind is cut off, as Bybit drops consumers that do not read.
MAX_QUEUED = 20_000


class Latency:
    """Delay per message: `base_ms` plus uniform jitter in [-jitter_ms, +jitter_ms], never below 0."""

    def __init__(self, *, base_ms: float, jitter_ms: float, seed: int = 0) -> None:
        self.base_ms, self.jitter_ms = base_ms, jitter_ms
        self._rng = random.Random(seed)

    def seconds(self) -> float:
        jitter = self._rng.uniform(-self.jitter_ms, self.jitter_ms) if self.jitter_ms else 0.0
        return max(0.0, self.base_ms + jitter) / 1000


class Conn:
    """One client socket. Messages go through a queue to a writer task that holds each one until its
    due time, so replies and data arrive `latency` after they were produced, in order."""

    def __init__(self, *, ws: web.WebSocketResponse, transport: asyncio.Transport | None, private: bool,
                 latency: Latency, silent: Callable[[], bool]) -> None:
        self.ws, self.transport, self.private = ws, transport, private
        self.conn_id = uuid.uuid4().hex[:20]
        self.topics: set[str] = set()
        self.authed = False
        self._latency, self._silent = latency, silent
        self._queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()
        self._last_due = 0.0
        self.writer = asyncio.create_task(self._write())

    def send(self, data: bytes) -> None:
        """Queue one frame (dropped while the silent fault is on)."""
        if self._silent() or self.ws.closed:
            return
        if self._queue.qsize() >= MAX_QUEUED:
            log.warning("ws %s: %d frames behind, dropping the connection", self.conn_id, MAX_QUEUED)
            self.drop()
            return
        due = max(self._last_due, time.monotonic() + self._latency.seconds())
        self._last_due = due
        self._queue.put_nowait((due, data))

    def drop(self) -> None:
        """Cut the TCP connection without a close frame, as a network failure would."""
        if self.transport is not None:
            self.transport.close()

    async def _write(self) -> None:
        while True:
            due, data = await self._queue.get()
            wait = due - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            if self.ws.closed:
                return
            try:
                await self.ws.send_str(data.decode())  # Bybit sends text frames
            except (ConnectionError, RuntimeError):
                return


class Hub:
    """Who is connected and who listens to which topic."""

    def __init__(self) -> None:
        self.conns: set[Conn] = set()
        self.subscribers: dict[str, set[Conn]] = defaultdict(set)

    def add(self, conn: Conn) -> None:
        self.conns.add(conn)

    def remove(self, conn: Conn) -> None:
        self.conns.discard(conn)
        for topic in conn.topics:
            self.subscribers[topic].discard(conn)
        conn.writer.cancel()

    def subscribe(self, conn: Conn, topic: str) -> bool:
        """True when this is a new subscription for the connection."""
        if topic in conn.topics:
            return False
        conn.topics.add(topic)
        self.subscribers[topic].add(conn)
        return True

    def unsubscribe(self, conn: Conn, topic: str) -> None:
        conn.topics.discard(topic)
        self.subscribers[topic].discard(conn)

    def listening(self, topic: str) -> bool:
        return bool(self.subscribers.get(topic))

    def publish(self, topic: str, data: bytes) -> None:
        for conn in self.subscribers.get(topic, ()):
            conn.send(data)

    def drop(self, *, private: bool) -> int:
        """Cut every public (or private) connection; returns how many."""
        victims = [c for c in self.conns if c.private == private]
        for conn in victims:
            conn.drop()
        return len(victims)
