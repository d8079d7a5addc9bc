"""Trade-built candles: one-minute bars kept for a week, aggregated on request to Bybit's intervals."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal

from common.bybit.constants import PARAMS_ERROR
from common.bybit.errors import BybitError

MINUTE_MS = 60_000
HOUR_MS = 60 * MINUTE_MS
DAY_MS = 1440 * MINUTE_MS
WEEK_MS = 7 * DAY_MS
MONDAY_OFFSET_MS = 4 * DAY_MS  # 1970-01-01 was a Thursday; Bybit's weekly bars start on Monday
HISTORY_MINUTES = 7 * 1440  # one-minute bars kept: a week, enough for ~600 "15" bars or a "W" bar
GAP_FILL_MINUTES = 1440  # a longer silence restarts the bars instead of filling it with flat ones
_MINUTES = {"1": 1, "3": 3, "5": 5, "15": 15, "30": 30, "60": 60, "120": 120, "240": 240, "360": 360,
            "720": 720, "D": 1440}

# (start_ms, open, high, low, close, volume, turnover)
Kline = tuple[int, Decimal, Decimal, Decimal, Decimal, Decimal, Decimal]


@dataclass(frozen=True, slots=True)
class Window:
    """The last 24 hours of trading as the ticker reports it."""

    open_24h: Decimal  # open of the oldest minute in the window
    open_1h: Decimal  # open of the oldest minute in the last hour
    high: Decimal
    low: Decimal
    volume: Decimal
    turnover: Decimal


class Candles:
    """One symbol's one-minute bars, each a list [start_ms, open, high, low, close, volume, turnover]."""

    __slots__ = ("bars", "_closed", "_closed_key")

    def __init__(self) -> None:
        self.bars: deque[list] = deque(maxlen=HISTORY_MINUTES)
        self._closed: Window | None = None  # the window over every bar but the newest, cached ...
        self._closed_key: tuple[int, int] = (0, 0)  # ... for (current minute, newest bar's start)

    def window(self, now_ms: int) -> Window | None:
        """24h figures over the minutes up to `now_ms`; older bars never change, so only the newest bar is
        folded in per call (the rest is summed once a minute), None before the first trade."""
        if not self.bars:
            return None
        minute = now_ms - now_ms % MINUTE_MS
        newest = self.bars[-1]
        day_start, hour_start = minute - DAY_MS + MINUTE_MS, minute - HOUR_MS + MINUTE_MS
        if self._closed_key != (minute, newest[0]):
            self._closed_key = (minute, newest[0])
            closed = [b for b in _since(self.bars, day_start) if b is not newest]
            self._closed = _summary(closed, hour_start=hour_start)
        live = _summary([newest] if newest[0] >= day_start else [], hour_start=hour_start)
        closed = self._closed
        if closed is None or live is None:
            return closed or live
        return Window(open_24h=closed.open_24h, open_1h=closed.open_1h if closed.open_1h else live.open_1h,
                      high=max(closed.high, live.high), low=min(closed.low, live.low),
                      volume=closed.volume + live.volume, turnover=closed.turnover + live.turnover)

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
            raise BybitError(PARAMS_ERROR, f"interval {interval} is not one of Bybit's kline intervals")
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



def _since(bars: deque[list], start_ms: int) -> list[list]:
    """The bars that started at or after `start_ms`, oldest first."""
    picked = []
    for bar in reversed(bars):
        if bar[0] < start_ms:
            break
        picked.append(bar)
    picked.reverse()
    return picked


def _summary(bars: list[list], *, hour_start: int) -> Window | None:
    """Fold bars (oldest first) into a Window; open_1h is 0 when none of them is in the last hour."""
    if not bars:
        return None
    hour = next((b[1] for b in bars if b[0] >= hour_start), Decimal(0))
    return Window(open_24h=bars[0][1], open_1h=hour, high=max(b[2] for b in bars),
                  low=min(b[3] for b in bars), volume=sum((b[5] for b in bars), Decimal(0)),
                  turnover=sum((b[6] for b in bars), Decimal(0)))


def _bucket(start_ms: int, interval: str) -> int:
    """Start of the `interval` bucket holding the minute that starts at `start_ms`."""
    if interval == "W":
        return (start_ms - MONDAY_OFFSET_MS) // WEEK_MS * WEEK_MS + MONDAY_OFFSET_MS
    if interval == "M":
        day = datetime.fromtimestamp(start_ms / 1000, tz=timezone.utc)
        return int(datetime(day.year, day.month, 1, tzinfo=timezone.utc).timestamp() * 1000)
    size = _MINUTES[interval] * MINUTE_MS
    return start_ms - start_ms % size
