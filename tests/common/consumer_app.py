"""A bare bus consumer process for fault tests: `python -m tests.common.consumer_app URL STREAM...`.

It reads each stream through `common.bus.Consumer` under its own consumer name, so a second instance
can XAUTOCLAIM what a killed one left pending. Its handler is idempotent the way real handlers are:
the effect of a message is stored once (HSETNX on a key derived from the message) in the same MULTI
that counts how often the handler ran, so a test can tell "handled exactly once" from "redelivered".
SIGTERM stops the consumers (finish the batch, ack it) and exits 0.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import signal

import redis.asyncio as aioredis
import uvloop

from common import logs
from common.bus import Bus, Consumer
from common.schemas import Message, OrderIntent, Trade, encode

EFFECTS = "test:effects"  # hash: message key -> consumer that applied it first
SEEN = "test:seen"  # hash: message key -> times a handler ran to completion
FAIL_SYMBOL = "FAIL"  # a Trade with this symbol makes the handler raise
HANG_INTENT = "hang"  # an OrderIntent with this id makes the handler hang forever


def effect_key(msg: Message) -> str:
    """The idempotency key of a message (what an orderLinkId is to an intent)."""
    return hashlib.sha1(encode(msg)).hexdigest()


class Recorder:
    """An idempotent handler whose effects land in Redis; it fails or hangs on command."""

    def __init__(self, redis: aioredis.Redis, *, name: str, delay_s: float = 0.0, hang_at: str = "") -> None:
        self.redis, self.name, self.delay_s, self.hang_at = redis, name, delay_s, hang_at

    async def __call__(self, msg: Message) -> None:
        if isinstance(msg, Trade) and msg.symbol == FAIL_SYMBOL:
            raise RuntimeError(f"refusing trade {msg.trade_id}")
        hang = (isinstance(msg, OrderIntent) and msg.intent_id == HANG_INTENT
                or isinstance(msg, Trade) and msg.trade_id == self.hang_at)
        if hang:
            await asyncio.Event().wait()
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        key = effect_key(msg)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hsetnx(EFFECTS, key, self.name)
            pipe.hincrby(SEEN, key, 1)
            await pipe.execute()


async def run(*, url: str, streams: list[str], name: str, group: str, delay_s: float, batch: int,
              claim_idle_ms: int, hang_at: str) -> int:
    bus = Bus(url, service="test-consumer")
    recorder = Recorder(bus.redis, name=name, delay_s=delay_s, hang_at=hang_at)
    consumers = [Consumer(bus, stream=s, group=group, name=name, handler=recorder, batch=batch,
                          claim_min_idle_ms=claim_idle_ms, start_id="0") for s in streams]
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: [cons.stop() for cons in consumers])
    await asyncio.gather(*(cons.run() for cons in consumers))
    await bus.close()
    return 0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    ap.add_argument("streams", nargs="+")
    ap.add_argument("--name", default="c1")
    ap.add_argument("--group", default="test")
    ap.add_argument("--delay-ms", type=float, default=0.0)
    ap.add_argument("--batch", type=int, default=100)
    ap.add_argument("--claim-idle-ms", type=int, default=15_000)
    ap.add_argument("--hang-at", default="", help="hang forever on the Trade with this trade_id")
    a = ap.parse_args()
    logs.configure("test-consumer", "INFO")
    raise SystemExit(uvloop.run(run(url=a.url, streams=a.streams, name=a.name, group=a.group,
                                    delay_s=a.delay_ms / 1000, batch=a.batch, claim_idle_ms=a.claim_idle_ms, hang_at=a.hang_at)))


if __name__ == "__main__":
    main()
