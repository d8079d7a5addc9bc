"""One connection of a client's pool, kept by a single task whose round trips never overlap.

redis-py spends about 90 us of CPU around each command or pipeline on these machines (a pipeline
object, the retry wrapper, a connection taken from the pool and given back, response callbacks),
more than the syscalls of the round trip itself. The bus's hottest loops (a consumer's ack + read,
the market publisher's XADD rounds) run one round trip at a time on their own: they keep one
connection, pack a round's commands in C (`hiredis.pack_command`), write them at once and read the
replies under one timeout for the round. A consumer's ack + read costs 40 % less CPU this way
(bench/README.md, "Seventh pass").

Replies are as the connection's protocol gives them (redis-py 8 speaks RESP3: a map where RESP2 had an
array of pairs). On any error the connection is dropped (its unread replies would poison the next
round; the next round reconnects) and the error raised: an error reply as redis-py's exception
(ResponseError, ...), a lost or silent Redis as ConnectionError / TimeoutError.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence

import redis.asyncio as aioredis
from hiredis import pack_command
from redis.asyncio.connection import AbstractConnection

Command = tuple[str | bytes | int, ...]


class DedicatedConnection:
    def __init__(self, redis: aioredis.Redis) -> None:
        self.redis = redis
        self._conn: AbstractConnection | None = None

    async def round(self, commands: Sequence[Command], *, blocking_s: float = 0.0) -> list:
        """Send `commands` in one write and return their replies, in order.

        The round may take the connection's socket timeout plus `blocking_s` (a blocking read's own
        wait) before it counts as a silent Redis."""
        packed = b"".join(pack_command(command) for command in commands)
        conn = self._conn
        if conn is None:
            conn = self._conn = await self.redis.connection_pool.get_connection()
        limit = None if conn.socket_timeout is None else conn.socket_timeout + blocking_s
        try:
            async with asyncio.timeout(limit):
                await conn.send_packed_command(packed, check_health=False)
                read = conn.read_response
                return [await read(timeout=math.inf) for _ in commands]  # one timer for the round
        except BaseException:
            await conn.disconnect(nowait=True)
            raise

    async def release(self) -> None:
        """Give the connection back to the pool (the task is done with it)."""
        conn, self._conn = self._conn, None
        if conn is not None:
            await self.redis.connection_pool.release(conn)
