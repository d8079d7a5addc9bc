"""The heartbeat task: every second, the service's health to `sys.health` and its TTL key."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from common import constants as c
from common import metrics
from common.bus import REDIS_DOWN
from common.health import Progress
from common.schemas import Heartbeat, Status, encode, now_ns

if TYPE_CHECKING:
    from common.lifecycle import Runtime

log = logging.getLogger(__name__)


def build(rt: Runtime, lag: dict[str, int]) -> Heartbeat:
    status, reason = rt.health.status, rt.health.reason
    stalled = rt.stalled()
    if stalled:
        status, reason = Status.RED, f"stalled: {', '.join(stalled)}"
    return Heartbeat(
        service=rt.service, cluster=rt.settings.service_cluster_id, pid=rt.pid, start_ts_ns=rt.start_ts_ns,
        ts_ns=now_ns(), version=rt.version, status=status, reason=reason, safe_mode=rt.safe_mode,
        consumer_lag=lag, last_error=rt.health.last_error or rt.consumer_error(), details=rt.health.details,
        supervisor=rt.supervisor,
    )


async def consumer_lag(rt: Runtime) -> dict[str, int]:
    lag = {}
    for cons in rt.consumers:
        n = await rt.bus.group_lag(cons.stream, cons.group)
        if n is not None:
            lag[cons.stream] = n
            metrics.BUS_CONSUMER_LAG.labels(cons.stream).set(n)
    return lag


async def publish_heartbeats(rt: Runtime, progress: Progress) -> None:
    while True:
        try:
            hb = build(rt, await consumer_lag(rt))
            async with rt.bus.redis.pipeline(transaction=False) as pipe:
                pipe.xadd(c.SYS_HEALTH, {c.PAYLOAD_FIELD: encode(hb)}, maxlen=10_000, approximate=True)
                pipe.psetex(c.heartbeat_key(rt.service), c.HEARTBEAT_TTL_MS, encode(hb))
                await pipe.execute()
            metrics.HEARTBEATS.inc()
            metrics.BUS_MESSAGES_OUT.labels(c.SYS_HEALTH).inc()
        except REDIS_DOWN as e:
            log.warning("heartbeat_failed", extra={"ctx": {"error": str(e)}})
        progress.beat()
        await asyncio.sleep(c.HEARTBEAT_INTERVAL_S)
