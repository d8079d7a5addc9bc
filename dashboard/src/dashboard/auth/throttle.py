"""Login throttling: lockout after LOGIN_MAX_FAILURES wrong passwords in a row, per user and per
client address, kept in Redis so that a dashboard restart (or a crash an attacker might provoke)
does not clear it.

The lockout starts at LOGIN_LOCKOUT_S and doubles on each repeat (capped at a day); a right password
during a lockout is refused too. A key's record expires a day after its last failure (plus the
lockout), which also bounds what a flood of made-up names can leave behind.
"""

from __future__ import annotations

import time

import redis.asyncio as aioredis

from common import constants as c

MAX_LOCKOUT_S = 24 * 3600.0

# One failure, atomically: count it; at the limit, lock for lockout * 2^lockouts (capped), start the
# count again and count the lockout. Returns 1 when this failure locked the key.
_FAILED = """
local count = redis.call('HINCRBY', KEYS[1], 'count', 1)
local locked = 0
if count >= tonumber(ARGV[1]) then
  local lockouts = tonumber(redis.call('HGET', KEYS[1], 'lockouts') or '0')
  local ms = math.min(tonumber(ARGV[2]) * 2 ^ lockouts, tonumber(ARGV[3]))
  redis.call('HSET', KEYS[1], 'count', 0, 'lockouts', lockouts + 1, 'until_ms', tonumber(ARGV[4]) + ms)
  locked = 1
end
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]) * 2)
return locked
"""


class Throttle:
    """Counts wrong passwords per key in Redis and locks a key out at the limit."""

    def __init__(self, redis: aioredis.Redis, *, max_failures: int, lockout_s: float,
                 clock=time.time) -> None:
        self.redis = redis
        self.max_failures = max_failures
        self.lockout_s = lockout_s
        self.clock = clock  # wall clock: the records outlive the process
        self._failed = redis.register_script(_FAILED)

    async def locked(self, *keys: str) -> float:
        """Seconds left on the longest lockout among `keys` (0 when none is locked)."""
        async with self.redis.pipeline(transaction=False) as pipe:
            for k in keys:
                pipe.hget(c.login_throttle_key(k), "until_ms")
            until = await pipe.execute()
        now_ms = self.clock() * 1000
        return max((max(0.0, (float(u) - now_ms) / 1000) for u in until if u is not None), default=0.0)

    async def failed(self, *keys: str) -> list[str]:
        """Count a wrong password; returns the keys this failure locked out."""
        args = [self.max_failures, int(self.lockout_s * 1000), int(MAX_LOCKOUT_S * 1000), int(self.clock() * 1000)]
        return [k for k in keys if await self._failed(keys=[c.login_throttle_key(k)], args=args)]

    async def succeeded(self, *keys: str) -> None:
        """A right password: the count of wrong ones in a row starts again (past lockouts still double)."""
        async with self.redis.pipeline(transaction=False) as pipe:
            for k in keys:
                pipe.hset(c.login_throttle_key(k), "count", 0)
            await pipe.execute()
