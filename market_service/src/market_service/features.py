"""Microstructure features: pure functions over book tops and trades, and the windowed trade state.

Prices are in quote units (USDT), sizes in base units, times in ms. `Flow` keeps running sums over
its windows so a publish costs O(1); its results equal the pure functions over the same trades.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Sequence
from itertools import pairwise

Top = tuple[float, float, float, float]  # best bid price, bid size, best ask price, ask size


def mid(bid: float, ask: float) -> float:
    return (bid + ask) / 2


def spread(bid: float, ask: float) -> float:
    return ask - bid


def spread_bps(bid: float, ask: float) -> float:
    """The spread in basis points of the mid."""
    return (ask - bid) / mid(bid, ask) * 1e4


def microprice(*, bid: float, bid_size: float, ask: float, ask_size: float) -> float:
    """The mid weighted towards the thinner side: where the next trade is more likely to print."""
    total = bid_size + ask_size
    return (bid * ask_size + ask * bid_size) / total if total else mid(bid, ask)


def imbalance(bid_sizes: Sequence[float], ask_sizes: Sequence[float]) -> float:
    """(bid - ask) / (bid + ask) size over the levels given: +1 all bids, -1 all asks."""
    b, a = sum(bid_sizes), sum(ask_sizes)
    return (b - a) / (b + a) if b + a else 0.0


def ofi_step(prev: Top, cur: Top) -> float:
    """Order-flow imbalance of one top-of-book change (Cont, Kukanov & Stoikov 2014), in size units.

    Bid side: a higher bid adds its size, a lower bid removes the old size, the same price adds the
    change; the ask side mirrors it with the opposite sign.
    """
    pb, qb, pa, qa = prev
    cb, cqb, ca, cqa = cur
    e = (cqb if cb >= pb else 0.0) - (qb if cb <= pb else 0.0)
    e -= (cqa if ca <= pa else 0.0) - (qa if ca >= pa else 0.0)
    return e


def trade_flow(trades: Iterable[tuple[float, bool]]) -> tuple[float, float]:
    """(buy volume, sell volume) of (size, taker is buyer) pairs."""
    buy = sell = 0.0
    for size, is_buy in trades:
        if is_buy:
            buy += size
        else:
            sell += size
    return buy, sell


def vwap(trades: Iterable[tuple[float, float]]) -> float:
    """Volume-weighted average price of (price, size) pairs; 0 without volume."""
    notional = volume = 0.0
    for price, size in trades:
        notional += price * size
        volume += size
    return notional / volume if volume else 0.0


def realized_vol(prices: Sequence[float]) -> float:
    """Realised volatility: the root of the summed squared log returns (not annualised)."""
    return math.sqrt(sum(math.log(b / a) ** 2 for a, b in pairwise(prices)))


class Flow:
    """One symbol's trades over two windows: flow and VWAP over `flow_ms`, volatility over `vol_ms`.

    CVD (cumulative volume delta, buys minus sells) runs from the first trade seen, not per window.
    """

    def __init__(self, *, flow_ms: int, vol_ms: int) -> None:
        self.flow_ms, self.vol_ms = flow_ms, vol_ms
        self._flow: deque[tuple[int, float, float, bool]] = deque()  # (ts, price, size, buy)
        self._rets: deque[tuple[int, float]] = deque()  # (ts, squared log return)
        self.buy_volume = self.sell_volume = self.notional = self.sum_r2 = 0.0
        self.cvd = 0.0
        self.last_price = 0.0

    def add(self, ts_ms: int, price: float, size: float, buy: bool) -> None:
        self._flow.append((ts_ms, price, size, buy))
        if buy:
            self.buy_volume += size
            self.cvd += size
        else:
            self.sell_volume += size
            self.cvd -= size
        self.notional += price * size
        if self.last_price and price != self.last_price:
            r2 = math.log(price / self.last_price) ** 2
            self._rets.append((ts_ms, r2))
            self.sum_r2 += r2
        self.last_price = price

    def evict(self, now_ms: int) -> None:
        """Drop what fell out of the windows ending at `now_ms`."""
        flow, cut = self._flow, now_ms - self.flow_ms
        while flow and flow[0][0] <= cut:
            _, price, size, buy = flow.popleft()
            if buy:
                self.buy_volume -= size
            else:
                self.sell_volume -= size
            self.notional -= price * size
        if not flow:  # re-zero the running sums, so rounding never accumulates
            self.buy_volume = self.sell_volume = self.notional = 0.0
        rets, cut = self._rets, now_ms - self.vol_ms
        while rets and rets[0][0] <= cut:
            self.sum_r2 -= rets.popleft()[1]
        if not rets:
            self.sum_r2 = 0.0

    @property
    def vwap(self) -> float:
        volume = self.buy_volume + self.sell_volume
        return self.notional / volume if volume > 0 else 0.0

    @property
    def realized_vol(self) -> float:
        return math.sqrt(max(self.sum_r2, 0.0))
