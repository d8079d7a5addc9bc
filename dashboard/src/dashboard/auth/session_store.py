"""Sessions kept server-side in Redis: the cookie is a random id, Redis holds only its SHA-256 (the
session's handle) with the user, the session's CSRF token, the client address, the start and the last
request. Ending a session is deleting its record, so a logout, a password or role change, a user's
removal or an admin's revocation takes effect at once on every dashboard.

No web imports: `scalperctl user passwd|role|remove` ends the user's sessions with this code too.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass

import redis.asyncio as aioredis

from common import constants as c

SEEN_EVERY_MS = 10_000  # the last-seen time is rewritten at most this often per session


def handle_of(session_id: str) -> str:
    """The public handle of a session id: what Redis and the sessions page know it by."""
    return hashlib.sha256(session_id.encode()).hexdigest()


@dataclass(frozen=True)
class Session:
    """One active session as the dashboard shows it and checks it."""

    handle: str
    user: str
    csrf: str
    client: str
    started_ms: int
    seen_ms: int


class SessionStore:
    """Creates, reads, lists and ends sessions in Redis; each expires SESSION_TTL_S after its start."""

    def __init__(self, redis: aioredis.Redis, *, ttl_s: float, clock=time.time) -> None:
        self.redis = redis
        self.ttl_ms = int(ttl_s * 1000)
        self.clock = clock

    def _now_ms(self) -> int:
        return int(self.clock() * 1000)

    async def create(self, *, user: str, client: str) -> str:
        """A new session for `user`; returns its id, the cookie's value (not stored anywhere)."""
        session_id = secrets.token_urlsafe(32)
        handle, now = handle_of(session_id), self._now_ms()
        key, index = c.session_key(handle), c.user_sessions_key(user.encode().hex())
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(key, mapping={"user": user, "csrf": secrets.token_urlsafe(24), "client": client,
                                    "started_ms": now, "seen_ms": now})
            pipe.pexpire(key, self.ttl_ms)
            pipe.sadd(index, handle)
            pipe.pexpire(index, self.ttl_ms)
            await pipe.execute()
        return session_id

    async def read(self, session_id: str | None) -> Session | None:
        """The live session of a cookie's id, its last-seen time brought up to date; None if it has ended."""
        if not session_id:
            return None
        session = await self._get(handle_of(session_id))
        if session is not None and self._now_ms() - session.seen_ms > SEEN_EVERY_MS:
            await self.redis.hset(c.session_key(session.handle), "seen_ms", self._now_ms())
        return session

    async def _get(self, handle: str) -> Session | None:
        raw = await self.redis.hgetall(c.session_key(handle))
        if not raw:
            return None
        f = {k.decode(): v.decode() for k, v in raw.items()}
        return Session(handle=handle, user=f["user"], csrf=f["csrf"], client=f["client"],
                       started_ms=int(f["started_ms"]), seen_ms=int(f["seen_ms"]))

    async def active(self) -> list[Session]:
        """Every live session, the most recently seen first."""
        sessions = []
        async for key in self.redis.scan_iter(match=c.session_key("*"), count=1000):
            session = await self._get(key.decode().rsplit(":", 1)[1])
            if session is not None:
                sessions.append(session)
        return sorted(sessions, key=lambda s: -s.seen_ms)

    async def revoke(self, handle: str) -> bool:
        """End one session by its handle; False when there was none."""
        session = await self._get(handle)
        if session is None:
            return False
        await self.redis.delete(c.session_key(handle))
        await self.redis.srem(c.user_sessions_key(session.user.encode().hex()), handle)
        return True

    async def end_user(self, user: str) -> int:
        """End every session of `user`, everywhere; returns how many there were."""
        index = c.user_sessions_key(user.encode().hex())
        handles = [h.decode() for h in await self.redis.smembers(index)]
        ended = await self.redis.delete(*(c.session_key(h) for h in handles)) if handles else 0
        await self.redis.delete(index)
        return ended
