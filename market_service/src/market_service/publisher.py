"""The coalescing publisher: books latest-wins per symbol, every trade in order, one pipeline per round.

The feed only marks a symbol dirty and appends trades; this task builds the messages when the bus is
ready for them. While one round is in flight, further updates of a symbol fold into its next
message (counted as coalesced), so a slow bus costs freshness, never memory. Trades are never
dropped: when TRADE_BUFFER_MAX are waiting, the feed waits too (`wait_room`), which is counted.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from common import constants as c
from common.bus import REDIS_DOWN, Bus, backoff
from common.bybit.schemas.trade import PublicTrade
from common.health import Progress
from common.schemas import BookTop, Message
from market_service import metrics as m
from market_service.batch_xadd import BatchXadd

log = logging.getLogger(__name__)

TRADE_BUFFER_MAX = 50_000  # trades waiting for the bus before the feed is held back
ROUND_MAX_TRADES = 5_000  # trades per pipeline, so one round never holds the loop for long
IDLE_BEAT_S = 1.0  # an idle publisher still proves it is alive this often


class Publisher:
    def __init__(
        self,
        *,
        bus: Bus | None,
        build: Callable[[str, int], BookTop | None],
        clock_ns: Callable[[], int] = time.time_ns,
    ) -> None:
        self.bus, self.build, self.clock_ns = bus, build, clock_ns
        self._writer = BatchXadd(bus.redis, maxlen=bus.maxlen) if bus is not None else None
        self._trades: list[tuple[PublicTrade, int]] = []  # (trade, received ns)
        self._dirty: dict[str, None] = {}  # symbols with a newer book than last published, in order
        self._wake = asyncio.Event()
        self._room = asyncio.Event()
        self._room.set()
        self.published_books = 0
        self.published_trades = 0
        self.coalesced = 0
        self._stopping = False

    def trades(self, trades: list[PublicTrade], received_ns: int) -> None:
        """Queue one frame's new trades, in order."""
        self._trades += [(t, received_ns) for t in trades]
        if len(self._trades) >= TRADE_BUFFER_MAX:
            self._room.clear()
        self._wake.set()

    def book(self, symbol: str) -> None:
        if symbol in self._dirty:
            self.coalesced += 1  # handed to Prometheus by the service's monitor
        else:
            self._dirty[symbol] = None
        self._wake.set()

    def stop(self) -> None:
        """Publish what is waiting, then return from run()."""
        self._stopping = True
        self._wake.set()

    def discard(self, symbol: str) -> None:
        """Forget a symbol that left the universe."""
        self._dirty.pop(symbol, None)

    @property
    def full(self) -> bool:
        return not self._room.is_set()

    async def wait_room(self) -> None:
        if not self._room.is_set():
            m.TRADE_BACKPRESSURE.inc()
            log.warning("trade_backpressure", extra={"ctx": {"waiting": len(self._trades)}})
            await self._room.wait()

    async def run(self, progress: Progress) -> None:
        """Publish rounds until stopped (and everything waiting is out), or cancelled."""
        try:
            await self._rounds(progress)
        finally:
            if self._writer is not None:
                await self._writer.release()

    async def _rounds(self, progress: Progress) -> None:
        delays, failures = backoff(), 0
        while not (self._stopping and (failures or not (self._trades or self._dirty))):
            try:
                async with asyncio.timeout(IDLE_BEAT_S):
                    await self._wake.wait()
            except TimeoutError:
                progress.beat()
                continue
            self._wake.clear()
            trades, self._trades = self._trades[:ROUND_MAX_TRADES], self._trades[ROUND_MAX_TRADES:]
            dirty, self._dirty = self._dirty, {}
            try:
                await self.flush(trades, list(dirty))
                failures = 0
            except REDIS_DOWN as e:
                failures += 1
                log.warning(
                    "publish_failed",
                    extra={
                        "ctx": {
                            "error": str(e),
                            "attempt": failures,
                            "trades": len(trades),
                            "books": len(dirty),
                        }
                    },
                )
                self._trades[:0] = trades  # nothing is lost: retried first, in order
                self._dirty = dirty | self._dirty
                progress.beat()  # waiting for Redis is expected, not a hang
                if not self._stopping:
                    await asyncio.sleep(delays.compute(failures))
            if self._trades or self._dirty:
                self._wake.set()
            if len(self._trades) < TRADE_BUFFER_MAX:
                self._room.set()
            progress.beat()

    async def flush(self, trades: list[tuple[PublicTrade, int]], symbols: list[str]) -> None:
        """Publish one round: the trades in arrival order, then each dirty symbol's latest book."""
        now = self.clock_ns()
        items: list[tuple[str, Message]] = [
            (c.MARKET_TRADES, t.to_trade(received_ts_ns=rx, published_ts_ns=now))
            for t, rx in trades
        ]
        books = [b for s in symbols if (b := self.build(s, now)) is not None]
        items += [(c.MARKET_BOOK, b) for b in books]
        await self._writer.xadd_many(items)
        self.published_trades += len(trades)
        self.published_books += len(books)
        # One latency sample per book message and one per round of trades (its oldest: the worst),
        # so the histogram costs nothing per trade.
        for b in books:
            m.LATENCY_RECEIVE.observe(max(b.received_ts_ns - b.exchange_ts_ns, 0) / 1e9)
            m.LATENCY_PUBLISH.observe((now - b.received_ts_ns) / 1e9)
        if trades:
            t, rx = trades[0]
            m.LATENCY_RECEIVE.observe(max(rx - t.T * 1_000_000, 0) / 1e9)
            m.LATENCY_PUBLISH.observe((now - rx) / 1e9)
