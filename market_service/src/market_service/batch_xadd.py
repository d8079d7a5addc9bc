"""Many XADDs in one round trip, packed by hiredis: the market publisher's share of the bus.

redis-py packs each command of a pipeline in Python (~12-16 us an XADD here, against ~1.5 us for
`hiredis.pack_command`, notes/bus-performance.md), builds its arguments through the generic xadd
helper, and takes a connection from its pool for every pipeline; at tens of thousands of trades a
second that costs more than everything else the market service does. `BatchXadd` writes a whole round
as a few scripts on a `DedicatedConnection` (the publisher's rounds never overlap). The entries are
exactly those `Bus.publish_many` writes (`MAXLEN ~`, the payload field, msgpack) and are counted in the
same metric. On any error the round is raised, so the caller retries it.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import groupby
from operator import itemgetter

import redis.asyncio as aioredis

from common import constants as c
from common import metrics
from common.dedicated_connection import DedicatedConnection
from common.schemas import Message, encode

# XADD every payload to KEYS[1] (ARGV: maxlen, field, payloads...): one reply for many entries.
XADD_ALL = """for i = 3, #ARGV do
  redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', ARGV[2], ARGV[i])
end
return #ARGV - 2"""
SCRIPT_MAX = 200  # entries per script: Redis serves no one else while one runs (~0.2 ms here)


class BatchXadd:
    """XADDs of one writer at a time (see the module docstring) on a connection of `redis`'s pool."""

    def __init__(self, redis: aioredis.Redis, *, maxlen: int) -> None:
        self.maxlen = str(maxlen)
        self._conn = DedicatedConnection(redis)
        self._sent: dict[str, metrics.Counter] = {}  # labelled children, looked up once per stream

    async def xadd_many(self, items: Sequence[tuple[str, Message]]) -> None:
        """XADD each (stream, message) in order, `MAXLEN ~ maxlen`, in one round trip."""
        if not items:
            return
        commands = []
        for stream, group in groupby(items, key=itemgetter(0)):  # runs of one stream, in order
            payloads = [encode(msg) for _, msg in group]
            for i in range(0, len(payloads), SCRIPT_MAX):
                commands.append(("EVAL", XADD_ALL, "1", stream, self.maxlen, c.PAYLOAD_FIELD,
                                 *payloads[i : i + SCRIPT_MAX]))
        await self._conn.round(commands)
        counts: dict[str, int] = {}
        for stream, _ in items:
            counts[stream] = counts.get(stream, 0) + 1
        for stream, n in counts.items():
            counter = self._sent.get(stream)
            if counter is None:
                counter = self._sent[stream] = metrics.BUS_MESSAGES_OUT.labels(stream)
            counter.inc(n)

    async def release(self) -> None:
        """Give the connection back to the pool (the writer is done)."""
        await self._conn.release()
