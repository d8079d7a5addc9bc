"""The platform's state as the other services keep it in Redis (JSON values), read for pages and API.

Each reader returns plain dicts; a value that does not parse is skipped, never guessed at.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import redis.asyncio as aioredis
from common.schemas import DecodeError, Message, decode

from common import constants as c
from common.quality import RATIOS, bucket_starts, figures

QUALITY_PREFIX = c.exec_quality_key("")
QUALITY_HISTORY_S = 86_400  # the quality charts' span
# What each quality bucket reports: the sums a chart reads, then every derived figure.
HISTORY_FIELDS = ("orders", "fills", "fill_qty", "fees", "notional", *RATIOS)


EVENTS_BATCH = 1000


async def exec_events(redis: aioredis.Redis, *, since_ms: int) -> AsyncIterator[Message]:
    """What execution published on exec.events from `since_ms` on, oldest first, read in batches; an
    entry that does not decode is skipped (the bus dead-letters it for execution's consumers)."""
    start: str | bytes = f"{since_ms}-0"
    while True:
        batch = await redis.xrange(c.EXEC_EVENTS, min=start, max="+", count=EVENTS_BATCH)
        for _, fields in batch:
            try:
                yield decode(fields[c.PAYLOAD_FIELD])
            except (KeyError, DecodeError):
                continue
        if len(batch) < EVENTS_BATCH:
            return
        start = b"(" + batch[-1][0]


def _load(raw: bytes | None):
    """JSON of `raw`, or None when absent or not JSON."""
    if raw is None:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None


async def json_hash(redis: aioredis.Redis, key: str) -> dict[str, dict]:
    """A hash of JSON objects by field, sorted; a value that is not an object is skipped."""
    out = {k.decode(): _load(v) for k, v in (await redis.hgetall(key)).items()}
    return {k: v for k, v in sorted(out.items()) if isinstance(v, dict)}


async def execution_state(redis: aioredis.Redis) -> dict | None:
    """{"state": NORMAL|SAFE|RECOVERING, "reason", "holds"} or None before execution wrote one."""
    value = _load(await redis.get(c.EXEC_STATE_KEY))
    return value if isinstance(value, dict) else None


async def recovery_plans(redis: aioredis.Redis, *, limit: int = 20) -> list[dict]:
    """Recovery plans, newest first, each with its steps and their outcomes."""
    plans = [_load(raw) for raw in await redis.lrange(c.EXEC_RECOVERY_KEY, 0, limit - 1)]
    return [p for p in plans if isinstance(p, dict)]


async def operator_safe_mode(redis: aioredis.Redis) -> bool:
    """The operator holds the platform in safe mode."""
    return await redis.get(c.SAFE_MODE_KEY) == b"1"


async def _quality_symbols(redis: aioredis.Redis) -> list[str]:
    """The symbols execution keeps lifetime quality sums for."""
    keys = [key.decode() async for key in redis.scan_iter(match=QUALITY_PREFIX + "*", count=100)]
    return sorted(key.removeprefix(QUALITY_PREFIX) for key in keys)


async def _hgetall(redis: aioredis.Redis, keys: list[str]) -> list[dict]:
    """HGETALL of each key in one round trip."""
    async with redis.pipeline(transaction=False) as pipe:
        for key in keys:
            pipe.hgetall(key)
        return await pipe.execute()


async def quality(redis: aioredis.Redis) -> dict[str, dict[str, float | None]]:
    """Per symbol lifetime execution-quality sums with the figures derived from them."""
    symbols = await _quality_symbols(redis)
    raws = await _hgetall(redis, [c.exec_quality_key(s) for s in symbols])
    return {s: figures(raw) for s, raw in zip(symbols, raws, strict=True)}


async def quality_history(redis: aioredis.Redis, now_s: float) -> dict:
    """Per symbol, the quality figures of each bucket of the last QUALITY_HISTORY_S that holds any sums,
    oldest first. Sums a bucket lacks are 0; a ratio without a denominator there is None."""
    symbols, starts = await _quality_symbols(redis), bucket_starts(now_s, QUALITY_HISTORY_S)
    buckets = [(s, t) for s in symbols for t in starts]
    raws = await _hgetall(redis, [c.exec_quality_bucket_key(s, t) for s, t in buckets])
    history: dict[str, list[dict]] = {s: [] for s in symbols}
    for (s, t), raw in zip(buckets, raws, strict=True):
        if raw:
            f = figures(raw)
            history[s].append({"t": t} | {k: f.get(k, 0.0) for k in HISTORY_FIELDS})
    return {"bucket_s": c.EXEC_QUALITY_BUCKET_S, "from": starts[0], "to": starts[-1], "symbols": history}
