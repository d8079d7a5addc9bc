"""The heartbeat task: every second, the service's health to `sys.health` and its TTL key.

It knows the bus and the consumers, not the runtime: what a heartbeat says comes from `build`, so the
runner (common.lifecycle) sits above this module and nothing here reaches back up to it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence

from common import constants as c
from common import metrics
from common.bus import REDIS_DOWN, Bus, Consumer
from common.health import Progress
from common.schemas import Heartbeat, encode

log = logging.getLogger(__name__)


async def consumer_lag(bus: Bus, consumers: Sequence[Consumer]) -> dict[str, int]:
    """Entries not yet delivered to each consumer's group, by stream (also into the lag gauge)."""
    lag = {}
    for cons in consumers:
        n = await bus.group_lag(cons.stream, cons.group)
        if n is not None:
            lag[cons.stream] = n
            metrics.BUS_CONSUMER_LAG.labels(cons.stream).set(n)
    return lag


async def publish_heartbeats(progress: Progress, *, bus: Bus, consumers: Sequence[Consumer],
                             build: Callable[[dict[str, int]], Heartbeat]) -> None:
    """Every HEARTBEAT_INTERVAL_S: `build(consumer lag)` to sys.health and the service's TTL key."""
    while True:
        try:
            hb = build(await consumer_lag(bus, consumers))
            async with bus.redis.pipeline(transaction=False) as pipe:
                pipe.xadd(c.SYS_HEALTH, {c.PAYLOAD_FIELD: encode(hb)}, maxlen=10_000, approximate=True)
                pipe.psetex(c.heartbeat_key(hb.service), c.HEARTBEAT_TTL_MS, encode(hb))
                await pipe.execute()
            metrics.HEARTBEATS.inc()
            metrics.BUS_MESSAGES_OUT.labels(c.SYS_HEALTH).inc()
        except REDIS_DOWN as e:
            log.warning("heartbeat_failed", extra={"ctx": {"error": str(e)}})
        progress.beat()
        await asyncio.sleep(c.HEARTBEAT_INTERVAL_S)
