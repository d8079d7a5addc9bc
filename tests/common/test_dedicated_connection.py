"""common.dedicated_connection against a real redis-server: rounds, and a round that fails."""

from __future__ import annotations

import pytest
import redis.asyncio as aioredis
from redis.exceptions import ResponseError

from common.dedicated_connection import DedicatedConnection

pytestmark = pytest.mark.service


@pytest.fixture
async def client(redis_url):
    c = aioredis.from_url(redis_url, socket_timeout=5)
    yield c
    await c.aclose()


async def test_a_round_returns_each_commands_reply_in_order(client):
    conn = DedicatedConnection(client)
    assert await conn.round([("SET", "k", "1"), ("INCRBY", "k", 41), ("GET", "k")]) == [b"OK", 42, b"42"]
    await conn.release()


async def test_an_error_reply_mid_round_is_raised_and_its_unread_replies_never_reach_the_next_round(client):
    conn = DedicatedConnection(client)
    await client.set("text", "not a number")
    with pytest.raises(ResponseError, match="not an integer"):
        await conn.round([("INCR", "text"), ("ECHO", "left unread")])
    assert await conn.round([("ECHO", "mine")]) == [b"mine"]
    await conn.release()
    assert await client.echo("the pool's") == b"the pool's"
