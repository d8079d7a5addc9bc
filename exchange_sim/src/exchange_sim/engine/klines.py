"""Trade-built candles: one-minute bars kept for a week, aggregated on request to Bybit's intervals."""

from __future__ import annotations

from collections import deque
from datetime import datetime, timezone
from decimal import Decimal

from exchange_sim.engine.errors import PARAMS, ExchangeError

MINUTE_MS = 60_000
DAY_MS = 1440 * MINUTE_MS
WEEK_MS = 7 * DAY_MS
MONDAY_OFFSET_MS = 4 * DAY_MS  # 1970-01-01 was a Thursday; Bybit's weekly bars start on Monday
HISTORY_MINUTES = 7 * 1440  # one-minute bars kept: a week, enough for ~600 "15" bars or a "W" bar
GAP_FILL_MINUTES = 1440  # a longer silence restarts the bars instead of filling it with flat ones
_MINUTES = {"1": 1, "3": 3, "5": 5, "15": 15, "30": 30, "60": 60, "120": 120, "240": 240, "360": 360,
            "720": 720, "D": 1440}

# (start_ms, open, high, low, close, volume, turnover)
Kline = tuple[int, Decimal, Decimal, Decimal, Decimal, Decimal, Decimal]


class Candles:
    """One symbol's one-minute bars, each a list [start_ms, open, high, low, close, volume, turnover]."""

    __slots__ = ("bars",)

    def __init__(self) -> None:
        self.bars: deque[list] = deque(maxlen=HISTORY_MINUTES)

    def add(self, *, ts_ms: int, price: Decimal, size: Decimal) -> None:
        """Fold one trade into its minute, first filling silent minutes with flat bars."""
        start = ts_ms - ts_ms % MINUTE_MS
        if self.bars:
            bar = self.bars[-1]
            if start < bar[0]:
                return  # a late trade for a closed minute: bars are final once the next one opened
            if start == bar[0]:
                bar[2] = max(bar[2], price)
                bar[3] = min(bar[3], price)
                bar[4] = price
                bar[5] += size
                bar[6] += price * size
                return
            close, gap = bar[4], (start - bar[0]) // MINUTE_MS - 1
            if gap <= GAP_FILL_MINUTES:
                for i in range(1, gap + 1):
                    flat = [bar[0] + i * MINUTE_MS, close, close, close, close, Decimal(0), Decimal(0)]
                    self.bars.append(flat)
        self.bars.append([start, price, price, price, price, size, price * size])

    def query(self, *, interval: str, limit: int, end_ms: int | None = None) -> list[Kline]:
        """Up to `limit` bars of `interval` ending at or before `end_ms`, newest first (Bybit's order)."""
        if interval not in _MINUTES and interval not in ("W", "M"):
            raise ExchangeError(PARAMS, f"interval {interval} is not one of Bybit's kline intervals")
        out: list[list] = []
        for bar in reversed(self.bars):
            if end_ms is not None and bar[0] > end_ms:
                continue
            start = _bucket(bar[0], interval)
            if out and out[-1][0] == start:
                agg = out[-1]  # walking backwards: this older bar supplies the bucket's open
                agg[1] = bar[1]
                agg[2] = max(agg[2], bar[2])
                agg[3] = min(agg[3], bar[3])
                agg[5] += bar[5]
                agg[6] += bar[6]
            else:
                if len(out) == limit:
                    break
                out.append([start, *bar[1:]])
        return [tuple(k) for k in out]

    def since(self, start_ms: int) -> list[list]:
        """The raw one-minute bars that started at or after `start_ms`, oldest first."""
        picked = []
        for bar in reversed(self.bars):
            if bar[0] < start_ms:
                break
            picked.append(bar)
        picked.reverse()
        return picked


def _bucket(start_ms: int, interval: str) -> int:
    """Start of the `interval` bucket holding the minute that starts at `start_ms`."""
    if interval == "W":
        return (start_ms - MONDAY_OFFSET_MS) // WEEK_MS * WEEK_MS + MONDAY_OFFSET_MS
    if interval == "M":
        day = datetime.fromtimestamp(start_ms / 1000, tz=timezone.utc)
        return int(datetime(day.year, day.month, 1, tzinfo=timezone.utc).timestamp() * 1000)
    size = _MINUTES[interval] * MINUTE_MS
    return start_ms - start_ms % size
