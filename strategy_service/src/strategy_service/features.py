"""Rolling per-symbol features over fixed time bars, O(1) per trade and per book update.

Trades only accumulate into the open bar; when a message's exchange time passes the bar's end the
bar closes and each window moves by one bar with running sums (re-summed once per lap of the ring so
float drift cannot build up). Units: returns in log terms, reported in bps; sizes in base coin.
"""

from __future__ import annotations

import math

from strategy_service.profile import FeatureParams


class Snapshot:
    """The features of a symbol at the close of a bar."""

    __slots__ = ("bar_end_ms", "bars", "price", "ret_bps", "momentum_bps", "pump_bps", "vol_bps",
                 "volume_z", "count_z", "trades_per_bar", "spread_bps", "imbalance", "ofi",
                 "bid", "ask")

    def __init__(self, **values: float) -> None:
        for k, v in values.items():
            setattr(self, k, v)

    def as_dict(self) -> dict[str, float]:
        return {k: getattr(self, k) for k in self.__slots__}


class SymbolFeatures:
    """Bars, windows and book state of one symbol. The engine adds each trade to `last`, `vol` and
    `count` itself (inline: it is the hot path)."""

    __slots__ = ("p", "bar_ms", "bar_end", "last", "prev_close", "vol", "count", "bars", "i",
                 "rets", "vols", "counts", "sum_r2", "sum_v", "sum_v2", "sum_c", "sum_c2", "mom", "pump",
                 "bid", "ask", "bid_sz", "ask_sz", "spread_bps", "imbalance", "ofi_acc", "depth")

    def __init__(self, params: FeatureParams) -> None:
        self.p = params
        self.bar_ms = params.bar_ms
        self.bar_end = -1  # exchange ms at which the open bar closes; -1 before the first message
        self.last = 0.0
        self.prev_close = 0.0
        self.vol = 0.0
        self.count = 0
        self.bars = 0  # bars closed so far
        self.i = 0  # ring position of the next bar
        n = params.window_bars
        self.rets, self.vols, self.counts = [0.0] * n, [0.0] * n, [0.0] * n
        self.sum_r2 = self.sum_v = self.sum_v2 = self.sum_c = self.sum_c2 = self.mom = self.pump = 0.0
        self.bid = self.ask = self.bid_sz = self.ask_sz = 0.0
        self.spread_bps = 0.0
        self.imbalance = 0.0
        self.ofi_acc = 0.0  # order-flow imbalance of the open bar, in base coin
        self.depth = 0.0  # mean top-of-book size, to normalise OFI

    def on_book(self, bids: list[tuple[str, str]], asks: list[tuple[str, str]]) -> None:
        """Spread, imbalance over the best `book_levels` levels (whatever depth the feed carries: live
        and replay score the same levels), and Cont's OFI from the best levels."""
        bid, bid_sz = float(bids[0][0]), float(bids[0][1])
        ask, ask_sz = float(asks[0][0]), float(asks[0][1])
        if self.bid:
            e = 0.0
            if bid >= self.bid:
                e += bid_sz
            if bid <= self.bid:
                e -= self.bid_sz
            if ask <= self.ask:
                e -= ask_sz
            if ask >= self.ask:
                e += self.ask_sz
            self.ofi_acc += e
        self.bid, self.ask, self.bid_sz, self.ask_sz = bid, ask, bid_sz, ask_sz
        mid = (bid + ask) / 2
        self.spread_bps = (ask - bid) / mid * 1e4 if mid > 0 else 0.0
        bsum = asum = 0.0
        n = self.p.book_levels
        for _, size in bids[:n]:
            bsum += float(size)
        for _, size in asks[:n]:
            asum += float(size)
        self.imbalance = (bsum - asum) / (bsum + asum) if bsum + asum > 0 else 0.0
        top = (bid_sz + ask_sz) / 2
        self.depth = top if self.depth == 0 else self.depth + (top - self.depth) * 0.1
        if not self.last:
            self.last = mid

    def roll(self, ts_ms: int) -> Snapshot | None:
        """Close every bar that ended by ts_ms; the snapshot of the last one closed, if any."""
        if self.bar_end < 0:
            self.bar_end = ts_ms - ts_ms % self.bar_ms + self.bar_ms
            return None
        if ts_ms < self.bar_end:
            return None
        missed = (ts_ms - self.bar_end) // self.bar_ms  # whole bars without a message
        snap = self._close_bar()
        for _ in range(min(missed, self.p.window_bars)):
            self.bar_end += self.bar_ms
            snap = self._close_bar()
        self.bar_end = ts_ms - ts_ms % self.bar_ms + self.bar_ms
        return snap

    def _close_bar(self) -> Snapshot:
        n, p = self.p.window_bars, self.p
        close = self.last
        r = math.log(close / self.prev_close) if self.prev_close > 0 and close > 0 else 0.0
        self.prev_close = close
        filled = min(self.bars, n)
        volume_z = _z(self.vol, self.sum_v, self.sum_v2, filled)
        count_z = _z(float(self.count), self.sum_c, self.sum_c2, filled)
        i = self.i
        old_r, old_v, old_c = self.rets[i], self.vols[i], self.counts[i]
        self.mom += r - self.rets[(i - p.momentum_bars) % n]
        self.pump += r - self.rets[(i - p.pump_bars) % n]
        self.sum_r2 += r * r - old_r * old_r
        self.sum_v += self.vol - old_v
        self.sum_v2 += self.vol * self.vol - old_v * old_v
        c = float(self.count)
        self.sum_c += c - old_c
        self.sum_c2 += c * c - old_c * old_c
        self.rets[i], self.vols[i], self.counts[i] = r, self.vol, c
        self.i = (i + 1) % n
        self.bars += 1
        if self.i == 0:
            self._resum()
        filled = min(self.bars, n)
        ofi = self.ofi_acc / self.depth if self.depth > 0 else 0.0
        self.vol, self.count, self.ofi_acc = 0.0, 0, 0.0
        return Snapshot(
            bar_end_ms=self.bar_end, bars=self.bars, price=close, ret_bps=r * 1e4,
            momentum_bps=self.mom * 1e4, pump_bps=self.pump * 1e4,
            vol_bps=math.sqrt(max(self.sum_r2, 0.0) / filled) * 1e4,
            volume_z=volume_z, count_z=count_z, trades_per_bar=self.sum_c / filled,
            spread_bps=self.spread_bps, imbalance=self.imbalance, ofi=ofi, bid=self.bid, ask=self.ask,
        )

    def _resum(self) -> None:
        """Exact sums once per lap of the ring: running sums stay bit-for-bit reproducible."""
        p, n = self.p, self.p.window_bars
        last = [(self.i - 1 - k) % n for k in range(n)]
        self.mom = math.fsum(self.rets[j] for j in last[: p.momentum_bars])
        self.pump = math.fsum(self.rets[j] for j in last[: p.pump_bars])
        self.sum_r2 = math.fsum(r * r for r in self.rets)
        self.sum_v, self.sum_v2 = math.fsum(self.vols), math.fsum(v * v for v in self.vols)
        self.sum_c, self.sum_c2 = math.fsum(self.counts), math.fsum(c * c for c in self.counts)


def _z(x: float, s: float, s2: float, n: int) -> float:
    """x's z-score against a window of n values with sum s and sum of squares s2 (0 if flat)."""
    if n < 2:
        return 0.0
    mean = s / n
    var = s2 / n - mean * mean
    return (x - mean) / math.sqrt(var) if var > 1e-12 * (1.0 + mean * mean) else 0.0
