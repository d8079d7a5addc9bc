"""The equity curve as the operator reads it: the wallet's equity over the last day, week, month or
year (execution's samples, common.equity_curve), with its change and range formatted for people."""

from __future__ import annotations

import redis.asyncio as aioredis
from common import equity_curve

from dashboard import formatting as fmt

PERIODS = tuple(equity_curve.PERIODS)  # day, week, month, year


def _usdt(value: float) -> str:
    return fmt.usdt(value).lstrip("+") + " USDT"


async def curve(redis: aioredis.Redis, *, period: str, now_ms: int) -> dict:
    """The samples of `period`, oldest first, and their summary; `no_data` when there is none yet."""
    res, samples = await equity_curve.series(redis, period=period, now_ms=now_ms)
    out = {"period": period, "resolution_s": res.bucket_ms // 1000,
           "samples": [{"ts_ms": ts, "equity": eq} for ts, eq in samples], "no_data": None, "display": {}}
    if not samples:
        out["no_data"] = f"no equity sample in the last {period}: execution records one with each wallet reading"
        return out
    first, last = samples[0][1], samples[-1][1]
    values = [eq for _, eq in samples]
    change = fmt.dec(last) - fmt.dec(first)
    out["display"] = {
        "last": _usdt(last), "change": fmt.usdt(change) + " USDT",
        "change_pct": fmt.pct(change / fmt.dec(first) * 100, signed=True) if first else "",
        "high": _usdt(max(values)), "low": _usdt(min(values)),
        "since": fmt.utc(samples[0][0] * 1_000_000),
    }
    return out
