"""The market loop: move the market every tick (generator or replay) and publish the public topics.

Book topics are depth-limited views: each tick the view is recomputed from the engine's book and
only the difference goes out as a delta, so `u` grows by exactly 1 per message sent on that topic.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import msgspec
from common.bybit.enums import BookMsgType
from common.bybit.schemas.envelope import PublicMsg
from common.bybit.schemas.kline import Kline
from common.bybit.schemas.orderbook import DEPTHS, OrderbookData

from exchange_sim import engine as e
from exchange_sim.server import render

if TYPE_CHECKING:
    from exchange_sim.server.sim import Sim

log = logging.getLogger(__name__)
_enc = msgspec.json.Encoder()
Source = Callable[[int], list[e.MarketEvent]]
KLINE_MS = 60_000


class Replay:
    """Events of a recorded file, released as the simulator's clock passes their recorded time."""

    def __init__(self, events: Iterator[tuple[int, e.MarketEvent]], *, speed: float) -> None:
        self._events, self._speed = events, speed
        self._next: tuple[int, e.MarketEvent] | None = next(events, None)
        self._origin: tuple[int, int] | None = None  # (file ms, clock ms) of the first step
        self.released = 0

    @property
    def done(self) -> bool:
        return self._next is None

    def __call__(self, now_ms: int) -> list[e.MarketEvent]:
        if self._next is None:
            return []
        if self._origin is None:
            self._origin = (self._next[0], now_ms)
        horizon = self._origin[0] + (now_ms - self._origin[1]) * self._speed
        out = []
        while self._next is not None and self._next[0] <= horizon:
            out.append(self._next[1])
            self._next = next(self._events, None)
        self.released += len(out)
        return out


class Feed:
    """Drives the engine's market and turns its state into Bybit public frames."""

    def __init__(self, *, sim: Sim, source: Source, tick_ms: int) -> None:
        self.sim, self.source, self.tick_ms = sim, source, tick_ms
        self._views: dict[str, tuple[dict[str, str], dict[str, str]]] = {}
        self._u: dict[str, int] = defaultdict(int)
        self._tickers: dict[str, dict[str, str]] = {}
        self._kline_start: dict[str, int] = {}
        self.steps = 0

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.tick_ms / 1000)
            try:
                self.tick(self.sim.now_ms())
            except Exception:  # one bad step (e.g. a malformed replay line) must not stop the market
                log.exception("market step failed; the market carries on with the next step")

    def tick(self, now_ms: int) -> None:
        """One market step: apply events, publish changed topics, push private events."""
        trades: dict[str, list[e.TradeTick]] = defaultdict(list)
        dirty: set[str] = set()
        for event in self.source(now_ms):
            self.sim.exchange.apply(event)
            dirty.add(event.symbol)
            if isinstance(event, e.TradeTick):
                trades[event.symbol].append(event)
        self.steps += 1
        for symbol in dirty:
            self._publish(symbol, trades.get(symbol, []), now_ms)
        self.sim.flush_private()

    # --- snapshots for a new subscriber ---
    def snapshot(self, topic: str, now_ms: int) -> bytes | None:
        """The first frame a new subscriber of `topic` gets (books and tickers), or None."""
        kind, _, rest = topic.partition(".")
        if kind == "orderbook":
            depth, symbol = rest.split(".", 1)
            if topic not in self._views:
                self._views[topic] = self._view(symbol, int(depth))
                self._u[topic] += 1
            return self._book_frame(topic, symbol, BookMsgType.SNAPSHOT, *self._views[topic], now_ms)
        if kind == "tickers":
            t = msgspec.structs.asdict(render.ticker(rest, self.sim.exchange.ticker(rest)))
            self._tickers[topic] = t
            return _enc.encode(PublicMsg(topic=topic, type=BookMsgType.SNAPSHOT, ts=now_ms, data=t))
        return None

    # --- per tick ---
    def _publish(self, symbol: str, trades: list[e.TradeTick], now_ms: int) -> None:
        hub = self.sim.hub
        for depth in DEPTHS:
            topic = f"orderbook.{depth}.{symbol}"
            if hub.listening(topic):
                self._publish_book(topic, symbol, depth, now_ms)
            else:
                self._views.pop(topic, None)
        topic = f"publicTrade.{symbol}"
        if trades and hub.listening(topic):
            data = [render.public_trade(t) for t in trades]
            hub.publish(topic, _enc.encode(PublicMsg(topic=topic, type=BookMsgType.SNAPSHOT, ts=now_ms, data=data)))
        topic = f"tickers.{symbol}"
        if hub.listening(topic):
            self._publish_ticker(topic, symbol, now_ms)
        topic = f"kline.1.{symbol}"
        if hub.listening(topic):
            self._publish_kline(topic, symbol, now_ms)

    def _view(self, symbol: str, depth: int) -> tuple[dict[str, str], dict[str, str]]:
        bids, asks, *_ = self.sim.exchange.book(symbol, depth)
        return {str(p): str(s) for p, s in bids}, {str(p): str(s) for p, s in asks}

    def _publish_book(self, topic: str, symbol: str, depth: int, now_ms: int) -> None:
        old = self._views.get(topic)
        new = self._view(symbol, depth)
        self._views[topic] = new
        if old is None or depth == 1:  # level 1 is always pushed as a snapshot, as Bybit does
            if old == new:
                return
            self._u[topic] += 1
            self.sim.hub.publish(topic, self._book_frame(topic, symbol, BookMsgType.SNAPSHOT, *new, now_ms))
            return
        bids, asks = _diff(old[0], new[0]), _diff(old[1], new[1])
        if not bids and not asks:
            return
        self._u[topic] += 1
        if self.sim.faults.book_gap > 0:  # fault: this delta is lost, the next one's u jumps
            self.sim.faults.book_gap -= 1
            return
        self.sim.hub.publish(topic, self._book_frame(topic, symbol, BookMsgType.DELTA, bids, asks, now_ms))

    def _book_frame(self, topic: str, symbol: str, kind: str, bids: dict[str, str] | list,
                    asks: dict[str, str] | list, now_ms: int) -> bytes:
        b = list(bids.items()) if isinstance(bids, dict) else bids
        a = list(asks.items()) if isinstance(asks, dict) else asks
        *_, seq, ts = self.sim.exchange.book(symbol, 1)
        data = OrderbookData(s=symbol, b=b, a=a, u=self._u[topic], seq=seq)
        return _enc.encode(PublicMsg(topic=topic, type=kind, ts=now_ms, data=data, cts=ts))

    def _publish_ticker(self, topic: str, symbol: str, now_ms: int) -> None:
        new = msgspec.structs.asdict(render.ticker(symbol, self.sim.exchange.ticker(symbol)))
        old = self._tickers.get(topic, {})
        changed = {n: v for n, v in new.items() if old.get(n) != v}
        self._tickers[topic] = new
        if changed:
            changed["symbol"] = symbol
            self.sim.hub.publish(topic, _enc.encode(PublicMsg(topic=topic, type=BookMsgType.DELTA, ts=now_ms,
                                                              data=changed)))

    def _publish_kline(self, topic: str, symbol: str, now_ms: int) -> None:
        rows = self.sim.exchange.klines(symbol, "1", 2)
        if not rows:
            return
        frames = []
        last = self._kline_start.get(topic)
        if last is not None and rows[0][0] != last and len(rows) > 1:
            frames.append(_kline(rows[1], confirm=True, now_ms=now_ms))  # the candle that just closed
        frames.append(_kline(rows[0], confirm=False, now_ms=now_ms))
        self._kline_start[topic] = rows[0][0]
        self.sim.hub.publish(topic, _enc.encode(PublicMsg(topic=topic, type=BookMsgType.SNAPSHOT, ts=now_ms,
                                                          data=frames)))


def _diff(old: dict[str, str], new: dict[str, str]) -> list[tuple[str, str]]:
    """Levels that changed or appeared, plus deleted ones with size "0"."""
    out = [(p, s) for p, s in new.items() if old.get(p) != s]
    out += [(p, "0") for p in old if p not in new]
    return out


def _kline(row: tuple, *, confirm: bool, now_ms: int) -> Kline:
    start, o, h, low, c, vol, turnover = row
    return Kline(start=start, end=start + KLINE_MS - 1, interval="1", open=str(o), close=str(c), high=str(h),
                 low=str(low), volume=str(vol), turnover=str(turnover), confirm=confirm, timestamp=now_ms)
