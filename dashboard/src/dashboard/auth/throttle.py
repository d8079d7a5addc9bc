"""Login throttling in Redis, reserved before the password is checked, so no burst can beat it.

Every attempt first takes a reservation in one Lua call (`reserve`), and only a granted reservation
reaches bcrypt. Three records take part:

- the client address (`addr`) and the user name from that address (`ua`): each grants at most
  LOGIN_MAX_FAILURES attempts in a row; the attempt that takes the last one locks the record for
  LOGIN_LOCKOUT_S, doubling on each repeat (capped at a day). A locked record refuses every attempt,
  a right password too. So wrong passwords from one address never lock the user out from another.
- the user name from anywhere (`user`): never refuses, only slows. Once LOGIN_MAX_FAILURES attempts
  in a row have failed, each further attempt waits for a turn, one every LOGIN_USER_INTERVAL_S; an
  attempt whose turn is more than USER_MAX_WAIT_S away is sent back with "busy" (no turn taken), so
  the bcrypt work spent on one user name is bounded however many addresses try it.

An attempt counts as failed when it is reserved; a right password gives its reservation back
(`succeeded`). The records outlive a dashboard restart and expire two days after their last attempt,
which also bounds what a flood of made-up names can leave behind. Names are hex-encoded in the keys,
so no typed name can reach another record or a SCAN pattern.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import redis.asyncio as aioredis

from common import constants as c

MAX_LOCKOUT_S = 24 * 3600.0
USER_MAX_WAIT_S = 10.0  # an attempt waits at most this long for its turn on a slowed user name

# Reserve one attempt, atomically. KEYS: addr, ua, user records. ARGV: max, lockout_ms, max_lockout_ms,
# now_ms, user_interval_ms, user_max_wait_ms. Returns {status, ms, locked}: status 0 granted (ms: wait for
# the user's turn first; locked: 1 addr, 2 ua, bit set when this reservation locked that record),
# 1 locked (ms left), 2 busy (ms until a turn could be had).
_RESERVE = """
local max, now = tonumber(ARGV[1]), tonumber(ARGV[4])
local left = 0
for i = 1, 2 do
  local u = tonumber(redis.call('HGET', KEYS[i], 'until_ms') or '0')
  if u > now then left = math.max(left, u - now) end
end
if left > 0 then return {1, left, 0} end
local wait = 0
if tonumber(redis.call('HGET', KEYS[3], 'count') or '0') >= max then
  local turn = math.max(now, tonumber(redis.call('HGET', KEYS[3], 'next_ms') or '0'))
  wait = turn - now
  if wait > tonumber(ARGV[6]) then return {2, wait, 0} end
  redis.call('HSET', KEYS[3], 'next_ms', turn + tonumber(ARGV[5]))
end
redis.call('HINCRBY', KEYS[3], 'count', 1)
local locked = 0
for i = 1, 2 do
  if redis.call('HINCRBY', KEYS[i], 'count', 1) >= max then
    local lockouts = tonumber(redis.call('HGET', KEYS[i], 'lockouts') or '0')
    local ms = math.min(tonumber(ARGV[2]) * 2 ^ lockouts, tonumber(ARGV[3]))
    redis.call('HSET', KEYS[i], 'count', 0, 'lockouts', lockouts + 1, 'until_ms', now + ms)
    locked = locked + i
  end
end
for i = 1, 3 do redis.call('PEXPIRE', KEYS[i], tonumber(ARGV[3]) * 2) end
return {0, wait, locked}
"""

# A right password gives its reservation back. KEYS: addr, ua, user. ARGV: locked bits of the reservation.
# The address keeps its other attempts counted (one user logging in does not clear an attacker's count);
# the user name from this address and from anywhere start again; a lockout this very reservation set
# is lifted.
_SUCCEEDED = """
local locked = tonumber(ARGV[1])
for i = 1, 2 do
  if math.floor(locked / i) % 2 == 1 then
    local lockouts = tonumber(redis.call('HGET', KEYS[i], 'lockouts') or '1')
    redis.call('HSET', KEYS[i], 'until_ms', 0, 'lockouts', math.max(0, lockouts - 1))
  end
end
if tonumber(redis.call('HGET', KEYS[1], 'count') or '0') > 0 then
  redis.call('HINCRBY', KEYS[1], 'count', -1)
end
redis.call('HSET', KEYS[2], 'count', 0)
redis.call('HSET', KEYS[3], 'count', 0, 'next_ms', 0)
return 1
"""


def _records(user: str, client: str) -> list[str]:
    """The keys of the address, user-from-address and user records of one attempt."""
    name = user.encode().hex()
    return [
        c.login_throttle_key(f"addr:{client}"),
        c.login_throttle_key(f"ua:{name}:{client}"),
        c.login_throttle_key(f"user:{name}"),
    ]


@dataclass(frozen=True)
class Reservation:
    """What `reserve` granted or why it refused: `locked_s` > 0 refused by a lockout, `busy_s` > 0 refused
    because the user name's next turn is too far; else `wait_s` to wait before the check."""

    locked_s: float = 0.0
    busy_s: float = 0.0
    wait_s: float = 0.0
    locked_bits: int = 0  # 1: this reservation locked the address, 2: the user from the address

    @property
    def granted(self) -> bool:
        """The password may be checked (after `wait_s`)."""
        return not (self.locked_s or self.busy_s)


class Throttle:
    """Reserves login attempts per address, per user name from an address, and per user name."""

    def __init__(self, redis: aioredis.Redis, *, max_failures: int, lockout_s: float,
                 user_interval_s: float, clock=time.time) -> None:
        self.redis = redis
        self.max_failures = max_failures
        self.lockout_s = lockout_s
        self.user_interval_s = user_interval_s
        self.clock = clock  # wall clock: the records outlive the process
        self._reserve = redis.register_script(_RESERVE)
        self._succeeded = redis.register_script(_SUCCEEDED)

    async def reserve(self, *, user: str, client: str) -> Reservation:
        """Take one attempt for `user` from `client`, counted as failed until `succeeded` gives it back."""
        args = [self.max_failures, int(self.lockout_s * 1000), int(MAX_LOCKOUT_S * 1000),
                int(self.clock() * 1000), int(self.user_interval_s * 1000), int(USER_MAX_WAIT_S * 1000)]
        status, ms, bits = await self._reserve(keys=_records(user, client), args=args)
        if status == 1:
            return Reservation(locked_s=ms / 1000)
        if status == 2:
            return Reservation(busy_s=ms / 1000)
        return Reservation(wait_s=ms / 1000, locked_bits=int(bits))

    async def succeeded(self, *, user: str, client: str, reservation: Reservation) -> None:
        """A right password: the reservation is given back (see _SUCCEEDED)."""
        await self._succeeded(keys=_records(user, client), args=[reservation.locked_bits])

    async def unlock(self, user: str) -> int:
        """Lift every lockout and slowdown of `user`: its own record, its records from each address, and
        the records of the addresses it was tried from (the operator means "let them in again").
        Returns the records cleared."""
        name = user.encode().hex()
        prefix = c.login_throttle_key(f"ua:{name}:")
        keys = [c.login_throttle_key(f"user:{name}")]
        async for key in self.redis.scan_iter(match=prefix + "*", count=1000):
            keys += [key, c.login_throttle_key(f"addr:{key.decode()[len(prefix):]}")]
        return await self.redis.delete(*keys)
