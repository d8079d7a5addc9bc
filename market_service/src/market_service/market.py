"""From public WS messages to per-symbol state: books, trade flow, latency, staleness.

`Market.on_message` is the hot path (called by the connector for every topic message); it only
updates state and tells the publisher what changed. Whatever makes a book untrustworthy (a gap, a
crossed book, a feed that stalls) marks it stale and asks `resync(symbol, reason)` for a fresh
snapshot; the book turns live again only when that snapshot is applied.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable

from common.bybit.enums import Side
from common.bybit.schemas.envelope import PublicMsg
from common.schemas import BookTop, Microstructure
from market_service import features as f
from market_service import metrics as m
from market_service.book import Book, BookError
from market_service.floats import Floats
from market_service.publisher import Publisher

log = logging.getLogger(__name__)

SEEN_TRADES = 2_000  # trade ids remembered per symbol, to drop replays after a reconnect (~0.3 MB each)
LATENCY_EWMA = 0.1  # weight of the newest sample in the per-symbol feed latency
BUY = Side.BUY


class Symbol:
    """Everything the service knows about one symbol."""

    __slots__ = (
        "book",
        "floats",
        "flow",
        "seen",
        "seen_order",
        "latency_ms",
        "last_rx_ns",
        "resync_ns",
        "last_trade",
        "trade_ms",
        "trade_rx_ns",
        "exchange_ms",
        "received_ns",
    )

    def __init__(self, name: str, *, depth: int | None, flow_ms: int, vol_ms: int, now_ns: int) -> None:
        self.floats = Floats()  # the symbol's price strings, read once each (book and trades)
        self.book = Book(name, depth=depth, floats=self.floats)
        self.flow = f.Flow(flow_ms=flow_ms, vol_ms=vol_ms)
        self.seen: set[str] = set()
        self.seen_order: deque[str] = deque()
        self.latency_ms = 0.0  # exchange -> received, smoothed
        self.last_rx_ns = now_ns  # the last book message received (or when we started waiting)
        self.resync_ns = now_ns  # when the last resync was asked for (the first subscribe counts as one)
        self.last_trade = ""  # last trade price, as Bybit sent it
        self.trade_ms = 0  # exchange time of the last trade, and when we received it
        self.trade_rx_ns = 0
        self.exchange_ms = 0  # exchange time of the newest book message applied
        self.received_ns = 0  # receive time of the newest book message applied


class Market:
    """The per-symbol state of the universe, fed by the WS and read by the publisher and state writer."""

    def __init__(
        self,
        *,
        publisher: Publisher,
        resync: Callable[[str, str], None],
        flow_window_s: float,
        vol_window_s: float,
        imbalance_levels: int,
        publish_levels: int,
        book_depth: int | None = None,
        clock_ns: Callable[[], int] = time.time_ns,
    ) -> None:
        self.publisher, self._resync = publisher, resync
        self.flow_ms, self.vol_ms = int(flow_window_s * 1000), int(vol_window_s * 1000)
        self.imbalance_levels, self.publish_levels = imbalance_levels, publish_levels
        self.book_depth = book_depth  # the orderbook topic's depth; books keep no level beyond it
        self.clock_ns = clock_ns
        self.symbols: dict[str, Symbol] = {}
        self.changed: set[str] = set()  # symbols whose state changed since the state writer last ran
        # Hot-path counts are plain ints, handed to Prometheus by flush_metrics() (a few times a second).
        self.counts = {"orderbook": 0, "publicTrade": 0, "other": 0, "applied": 0, "duplicate": 0}
        self._flushed = dict(self.counts)
        self._flushed_coalesced = 0

    @classmethod
    def publishing_to(cls, bus, **options) -> Market:
        """A Market with a Publisher of its own to `bus` (None: the publisher only collects) that
        builds each book message from this market's state; `options` are the constructor's."""
        market: Market
        publisher = Publisher(bus=bus, build=lambda symbol, now: market.book_top(symbol, now))
        market = cls(publisher=publisher, **options)
        return market

    def add(self, symbol: str) -> None:
        if symbol not in self.symbols:
            self.symbols[symbol] = Symbol(
                symbol,
                depth=self.book_depth,
                flow_ms=self.flow_ms,
                vol_ms=self.vol_ms,
                now_ns=self.clock_ns(),
            )
        m.SYMBOLS.set(len(self.symbols))

    def remove(self, symbol: str) -> None:
        self.symbols.pop(symbol, None)
        self.publisher.discard(symbol)
        self.changed.discard(symbol)
        m.SYMBOLS.set(len(self.symbols))

    # --- the hot path ---
    def on_message(self, msg: PublicMsg) -> None:
        rx = self.clock_ns()
        topic = msg.topic
        counts = self.counts
        if topic.startswith("orderbook."):
            counts["orderbook"] += 1
            self._on_book(msg, rx)
        elif topic.startswith("publicTrade."):
            counts["publicTrade"] += 1
            self._on_trades(msg, rx)
        else:
            counts["other"] += 1

    def _on_book(self, msg: PublicMsg, rx: int) -> None:
        data = msg.data
        st = self.symbols.get(data.s)
        if st is None:  # a symbol that just left the universe
            return
        latency = rx / 1e6 - msg.ts
        st.latency_ms += LATENCY_EWMA * (latency - st.latency_ms)
        st.last_rx_ns = rx
        waiting = bool(st.book.stale)
        try:
            st.book.apply(msg.type, data, msg.ts)
        except BookError as e:
            if waiting:  # deltas until the snapshot we asked for are expected; check_stale asks again
                return
            reason = str(e)
            if "gap" in reason:
                m.GAPS.inc()
            self.resync(data.s, reason)
            return
        self.counts["applied"] += 1
        st.exchange_ms, st.received_ns = msg.ts, rx
        self.changed.add(data.s)
        self.publisher.book(data.s)

    def _on_trades(self, msg: PublicMsg, rx: int) -> None:
        symbols, counts, fresh = self.symbols, self.counts, []
        st = None
        for t in msg.data:
            if st is None or t.s != st.book.symbol:  # a frame holds one symbol's trades
                st = symbols.get(t.s)
                if st is None:
                    continue
            seen = st.seen
            if t.i in seen:
                counts["duplicate"] += 1
                continue
            seen.add(t.i)
            order = st.seen_order
            order.append(t.i)
            if len(order) > SEEN_TRADES:
                seen.discard(order.popleft())
            st.flow.add(t.T, st.floats[t.p], float(t.v), t.S == BUY)
            st.last_trade, st.trade_ms, st.trade_rx_ns = t.p, t.T, rx
            fresh.append(t)
            self.changed.add(t.s)
        if fresh:
            self.publisher.trades(fresh, rx)

    def flush_metrics(self) -> None:
        """Hand the hot-path counts to Prometheus."""
        delta = {k: v - self._flushed[k] for k, v in self.counts.items()}
        self._flushed = dict(self.counts)
        for topic in ("orderbook", "publicTrade", "other"):
            m.MESSAGES_IN.labels(topic).inc(delta[topic])
        m.BOOK_UPDATES.inc(delta["applied"])
        m.TRADES_DUPLICATE.inc(delta["duplicate"])
        m.COALESCED.inc(self.publisher.coalesced - self._flushed_coalesced)
        self._flushed_coalesced = self.publisher.coalesced

    # --- staleness and resync ---
    def resync(self, symbol: str, reason: str) -> None:
        """Distrust the book, publish it as stale once, and ask for a fresh snapshot."""
        st = self.symbols.get(symbol)
        if st is None:
            return
        if not st.book.stale:
            st.book.invalidate(reason)
        st.resync_ns = self.clock_ns()
        self.changed.add(symbol)
        self.publisher.book(symbol)
        self._resync(symbol, reason)

    def check_stale(self, *, stale_after_s: float) -> None:
        """Probe books quiet for `stale_after_s` (ask for a snapshot, book still live); distrust those
        whose probe or resync then goes unanswered for as long."""
        now, limit = self.clock_ns(), int(stale_after_s * 1e9)
        for name, st in self.symbols.items():
            if st.book.stale:
                if now - st.resync_ns > limit:
                    self.resync(name, f"resync unanswered: {st.book.stale}")
            elif now - st.last_rx_ns > limit and now - st.resync_ns > limit:
                if st.last_rx_ns < st.resync_ns:  # probed that long ago, and not a single message since
                    self.resync(name, f"resync unanswered: no book message for {2 * stale_after_s:g} s")
                else:
                    st.resync_ns = now
                    self._resync(name, f"no book message for {stale_after_s:g} s")

    def mark_all_stale(self, reason: str) -> None:
        """The feed is down: every book is stale until its next snapshot (which resubscribing brings)."""
        now = self.clock_ns()
        for name, st in self.symbols.items():
            if not st.book.stale:
                st.book.invalidate(reason)
                st.last_rx_ns = st.resync_ns = now
                self.changed.add(name)
                self.publisher.book(name)

    def stale(self) -> dict[str, str]:
        return {name: st.book.stale for name, st in self.symbols.items() if st.book.stale}

    # --- views ---
    def book_top(
        self, symbol: str, now_ns: int, *, levels: int | None = None, drain_ofi: bool = True
    ) -> BookTop | None:
        """The symbol's book message: top `levels` (publish_levels by default) + microstructure.

        The published message drains the accumulated OFI; an operator's view (`drain_ofi=False`) peeks."""
        st = self.symbols.get(symbol)
        if st is None:
            return None
        book = st.book
        bids, asks = book.levels(levels or self.publish_levels)
        return BookTop(
            symbol=symbol,
            u=book.u,
            seq=book.seq,
            bids=bids,
            asks=asks,
            stale=bool(book.stale),
            micro=self.micro(st, now_ns, drain_ofi=drain_ofi),
            exchange_ts_ns=book.ts_ms * 1_000_000,
            received_ts_ns=st.received_ns,
            published_ts_ns=now_ns,
        )

    def micro(self, st: Symbol, now_ns: int, *, drain_ofi: bool) -> Microstructure:
        flow = st.flow
        if st.trade_rx_ns:  # "now" on the trades' own clock: the last trade's time plus what passed since
            flow.evict(st.trade_ms + (now_ns - st.trade_rx_ns) // 1_000_000)
        top = st.book.top()
        common = dict(
            ofi=st.book.take_ofi() if drain_ofi else st.book.ofi,
            buy_volume=flow.buy_volume,
            sell_volume=flow.sell_volume,
            cvd=flow.cvd,
            realized_vol=flow.realized_vol,
            vwap=flow.vwap,
        )
        if top is None:
            return Microstructure(**common)
        bid, bid_size, ask, ask_size = top
        n = self.imbalance_levels
        return Microstructure(
            spread=f.spread(bid, ask),
            spread_bps=f.spread_bps(bid, ask),
            mid=f.mid(bid, ask),
            microprice=f.microprice(bid=bid, bid_size=bid_size, ask=ask, ask_size=ask_size),
            imbalance=f.imbalance(
                [lv[2] for lv in st.book.bids.top(n)], [lv[2] for lv in st.book.asks.top(n)]
            ),
            **common,
        )
