"""dashboard.auth.throttle: the reservation's rules in a real Redis: the attempt that takes the last one
locks the address and the name from it, the lockout doubles on each repeat and outlives a restart, a right
password gives its reservation back, a user name past the limit is slowed (turns), and unlock lifts it all."""

from __future__ import annotations

import pytest
from dashboard.auth.throttle import MAX_LOCKOUT_S, USER_MAX_WAIT_S, Throttle
from redis import asyncio as aioredis

pytestmark = pytest.mark.service


@pytest.fixture
async def r(redis_url):
    client = aioredis.Redis.from_url(redis_url)
    yield client
    await client.aclose()


def make(r, now) -> Throttle:
    return Throttle(r, max_failures=3, lockout_s=10.0, user_interval_s=2.0, clock=lambda: now[0])


async def test_the_last_reservation_locks_doubles_on_repeat_and_a_restart_keeps_it(r):
    now = [1_000_000.0]
    t = make(r, now)
    turns = [await t.reserve(user="u", client="a") for _ in range(3)]
    assert [x.granted for x in turns] == [True, True, True] and turns[2].locked_bits == 3
    assert (await t.reserve(user="u", client="a")).locked_s == 10.0
    assert (await t.reserve(user="other", client="a")).locked_s == 10.0  # the address, whatever the name
    now[0] += 11
    t = make(r, now)  # a restarted dashboard: the past lockout still counts
    for _ in range(3):
        await t.reserve(user="u", client="a")
    assert (await t.reserve(user="u", client="a")).locked_s == 20.0  # twice as long
    assert 0 < await r.pttl(next(iter(await r.keys("*addr:a")))) <= 2 * MAX_LOCKOUT_S * 1000


async def test_a_right_password_gives_its_reservation_back_even_the_locking_one(r):
    now = [1_000_000.0]
    t = make(r, now)
    for _ in range(2):
        await t.reserve(user="u", client="a")
    last = await t.reserve(user="u", client="a")
    await t.succeeded(user="u", client="a", reservation=last)
    assert (await t.reserve(user="u", client="a")).granted


async def test_a_user_name_past_the_limit_is_slowed_from_every_address_and_unlock_lifts_it(r):
    now = [1_000_000.0]
    t = make(r, now)
    for client in ("a", "b", "c"):
        await t.reserve(user="u", client=client)
    waits = [(await t.reserve(user="u", client=f"d{i}")).wait_s for i in range(3)]
    assert waits == [0.0, 2.0, 4.0]  # one check every LOGIN_USER_INTERVAL_S, never refused outright
    for i in range(int(USER_MAX_WAIT_S / 2) - 2):
        await t.reserve(user="u", client=f"e{i}")
    assert (await t.reserve(user="u", client="f")).busy_s > USER_MAX_WAIT_S  # too far: no turn taken
    await t.reserve(user="u", client="g")
    await t.reserve(user="u", client="g")
    assert await t.unlock("u") >= 2
    turn = await t.reserve(user="u", client="g")
    assert turn.granted and turn.wait_s == 0.0
