"""dashboard.auth.throttle: the lockout's rules in a real Redis: it doubles on each repeat, a right password
starts the count again, and a restarted dashboard keeps what the last one counted."""

from __future__ import annotations

import pytest
from dashboard.auth.throttle import MAX_LOCKOUT_S, Throttle
from redis import asyncio as aioredis

from common import constants as c

pytestmark = pytest.mark.service


async def test_lockout_doubles_a_success_resets_the_count_and_a_restart_keeps_it(redis_url):
    r = aioredis.Redis.from_url(redis_url)
    now = [1_000_000.0]

    def throttle() -> Throttle:
        return Throttle(r, max_failures=3, lockout_s=10.0, clock=lambda: now[0])

    t = throttle()
    try:
        assert await t.failed("u") == [] and await t.failed("u") == []
        await t.succeeded("u")  # two wrong, then right: the count starts again
        assert await t.failed("u") == [] and await t.failed("u") == [] and await t.failed("u") == ["u"]
        assert await t.locked("u", "other") == 10.0
        now[0] += 11
        assert await t.locked("u") == 0.0
        t = throttle()  # a restarted dashboard: the past lockout still counts
        for _ in range(3):
            await t.failed("u")
        assert await t.locked("u") == 20.0  # the second lockout lasts twice as long
        assert 0 < await r.pttl(c.login_throttle_key("u")) <= 2 * MAX_LOCKOUT_S * 1000
    finally:
        await r.aclose()
