"""The wallet's equity over days and weeks, for the operator's equity curve.

Execution keeps only today's equity for its daily-loss limit (EXEC_DAILY_LOSS_KEY); this keeps a sample
per time bucket at three resolutions, each a Redis sorted set scored by the bucket's start (ms) whose
member is "<bucket ms>:<equity>": a bucket's sample is its newest reading (the bucket's close), so a
new reading in the same bucket replaces it. Each set is cut to its newest `keep` buckets on every write:
bounded without a retention job. Execution writes (it sees every reading); the dashboard reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from weakref import WeakKeyDictionary

import redis.asyncio as aioredis
from redis.commands.core import AsyncScript

from common import constants as c


@dataclass(frozen=True)
class Resolution:
    name: str
    bucket_ms: int
    keep: int  # buckets kept, newest first

    @property
    def key(self) -> str:
        return c.exec_equity_curve_key(self.name)


MINUTES_5 = Resolution("5m", 300_000, 2 * 288)  # two days
HOURLY = Resolution("1h", 3_600_000, 400 * 24)  # 400 days
DAILY = Resolution("1d", 86_400_000, 10 * 366)  # ten years
RESOLUTIONS = (MINUTES_5, HOURLY, DAILY)
# What a chart of each period reads: the finest resolution that still covers it.
PERIODS: dict[str, tuple[int, Resolution]] = {
    "day": (86_400_000, MINUTES_5), "week": (7 * 86_400_000, HOURLY), "month": (31 * 86_400_000, HOURLY),
    "year": (366 * 86_400_000, DAILY),
}


# KEYS: one sorted set per resolution; ARGV: for each, in KEYS' order, its bucket (ms), member and keep.
_RECORD = """
for i, key in ipairs(KEYS) do
  local bucket, member, keep = ARGV[3 * i - 2], ARGV[3 * i - 1], tonumber(ARGV[3 * i])
  redis.call('ZREMRANGEBYSCORE', key, bucket, bucket)
  redis.call('ZADD', key, bucket, member)
  redis.call('ZREMRANGEBYRANK', key, 0, -keep - 1)
end
"""

_scripts: WeakKeyDictionary[aioredis.Redis, AsyncScript] = WeakKeyDictionary()  # _RECORD, once per client


async def record(redis: aioredis.Redis, *, equity: float, ts_ms: int) -> None:
    """Make `equity` the sample of its bucket at every resolution, and cut each set to its bound: one
    atomic script (a reading comes with every fill, and nine commands in a transaction cost the
    execution service's loop about four times as much)."""
    args: list[int | str] = []
    for res in RESOLUTIONS:
        bucket = ts_ms - ts_ms % res.bucket_ms
        args += [bucket, f"{bucket}:{equity!r}", res.keep]
    script = _scripts.get(redis)
    if script is None:
        script = _scripts[redis] = redis.register_script(_RECORD)
    await script(keys=[res.key for res in RESOLUTIONS], args=args)


async def series(redis: aioredis.Redis, *, period: str,
                 now_ms: int) -> tuple[Resolution, list[tuple[int, float]]]:
    """The samples of the last `period` (a PERIODS key), oldest first: (bucket start ms, equity)."""
    span_ms, res = PERIODS[period]
    found = await redis.zrangebyscore(res.key, now_ms - span_ms, "+inf")
    samples = []
    for member in found:
        bucket, _, equity = member.decode().partition(":")
        samples.append((int(bucket), float(equity)))
    return res, samples
