"""The daily loss on the exchange wallet's equity (USDT), and execution's kill switch that it trips.

Equity is the wallet's `totalEquity`: realised and unrealised PnL, fees and funding all move it. Readings
come from the private `wallet` topic (dated by the frame's creationTime) and from REST. The UTC day only
ever moves forward: a late reading dated yesterday is ignored, so it cannot reset today's kill. The
state is kept in Redis (EXEC_DAILY_LOSS_KEY), so a restart keeps a tripped kill switch tripped. Every
reading in order is also sampled into the equity curve (common.equity_curve) the dashboard charts.
"""

from __future__ import annotations

import asyncio
import time

import msgspec
import redis.asyncio as aioredis

from common import constants as c
from common import equity_curve

DAY_MS = 86_400_000


class DayState(msgspec.Struct, kw_only=True):
    """One UTC day of equity readings."""

    day: int = -1  # ms since the epoch // DAY_MS
    day_start: float = 0.0  # the day's first equity reading (USDT)
    equity: float = 0.0  # the newest reading
    ts_ms: int = 0  # the newest reading's time
    killed: str = ""  # why no entry may open until the next UTC day; "" when none is stopped


_enc = msgspec.json.Encoder()
_dec = msgspec.json.Decoder(DayState)


def advance(st: DayState, *, equity: float, ts_ms: int, limit_pct: float) -> str:
    """Account one reading into `st`; the kill reason when this reading trips it, else "".

    A reading older than the newest one (or dated an earlier day) changes nothing."""
    day = ts_ms // DAY_MS
    if ts_ms < st.ts_ms or day < st.day:
        return ""
    if day > st.day:
        st.day, st.day_start, st.killed = day, equity, ""
    st.equity, st.ts_ms = equity, ts_ms
    if st.killed or st.day_start <= 0:
        return ""
    loss_pct = (st.day_start - equity) / st.day_start * 100
    if loss_pct >= limit_pct:
        st.killed = (f"daily loss {loss_pct:.3f} % of {st.day_start:.2f} USDT "
                     f">= EXEC_DAILY_LOSS_LIMIT_PCT={limit_pct:g}")
        return st.killed
    return ""


class DailyLoss:
    """The day's equity state in Redis, advanced by wallet readings one at a time."""

    def __init__(self, *, redis: aioredis.Redis, limit_pct: float) -> None:
        self.r, self.limit_pct = redis, limit_pct
        self.state: DayState | None = None
        self.read_at = 0.0  # monotonic time of the last reading (0: none since start)
        self.lock = asyncio.Lock()

    async def load(self) -> DayState:
        if self.state is None:
            raw = await self.r.get(c.EXEC_DAILY_LOSS_KEY)
            self.state = _dec.decode(raw) if raw else DayState()
        return self.state

    def age_s(self) -> float:
        """Seconds since the last reading this process took (infinite before the first)."""
        return time.monotonic() - self.read_at if self.read_at else float("inf")

    async def on_equity(self, equity: float, *, ts_ms: int) -> str:
        """Account one reading and save the state; the kill reason when this reading trips it."""
        async with self.lock:
            st = await self.load()
            in_order = ts_ms >= st.ts_ms
            tripped = advance(st, equity=equity, ts_ms=ts_ms, limit_pct=self.limit_pct)
            self.read_at = time.monotonic()
            await self.r.set(c.EXEC_DAILY_LOSS_KEY, _enc.encode(st))
            if in_order:  # a late reading must not overwrite its bucket's newer sample
                await equity_curve.record(self.r, equity=equity, ts_ms=ts_ms)
            return tripped
