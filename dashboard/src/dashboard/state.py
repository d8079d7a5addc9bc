"""The platform's state as the other services keep it in Redis (JSON values), read for pages and API.

Each reader returns plain dicts; a value that does not parse is skipped, never guessed at.
"""

from __future__ import annotations

import json

import redis.asyncio as aioredis

from common import constants as c

QUALITY_PREFIX = c.exec_quality_key("")


def _load(raw: bytes | None):
    if raw is None:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None


async def json_hash(redis: aioredis.Redis, key: str) -> dict[str, dict]:
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
    return await redis.get(c.SAFE_MODE_KEY) == b"1"


async def quality(redis: aioredis.Redis) -> dict[str, dict[str, float]]:
    """Per symbol execution-quality sums, plus fill ratio and maker share where they are defined."""
    out = {}
    async for key in redis.scan_iter(match=QUALITY_PREFIX + "*", count=100):
        sums = {k.decode(): float(v) for k, v in (await redis.hgetall(key)).items()}
        if sums.get("intent_qty"):
            sums["fill_ratio"] = sums.get("fill_qty", 0.0) / sums["intent_qty"]
        if sums.get("fill_qty"):
            sums["maker_share"] = sums.get("maker_qty", 0.0) / sums["fill_qty"]
        out[key.decode().removeprefix(QUALITY_PREFIX)] = sums
    return dict(sorted(out.items()))
