"""A read of several intents is recorded as queued in one round trip (the consumer's prepare), not one
per intent; each is still handled exactly once, and one read again (redelivered) is not worked twice."""

from __future__ import annotations

import asyncio

import pytest

from common import constants as c
from common.bus import Bus, Consumer
from common.config import Settings
from common.schemas import OrderEvent, OrderIntent, decode, now_ns
from execution_service.quality import Quality
from execution_service.router import Router
from execution_service.store import Store
from tests.support import wait_until_async

pytestmark = pytest.mark.service


class CountedStore(Store):
    """The real store; remembers each add_intents call's intent ids."""

    def __init__(self, redis) -> None:
        super().__init__(redis)
        self.calls: list[list[str]] = []

    async def add_intents(self, recs):
        self.calls.append([r.intent_id for r in recs])
        return await super().add_intents(recs)


async def test_a_burst_is_recorded_in_one_round_trip_and_each_intent_handled_once(redis_url):
    bus = Bus(redis_url, service="execution")
    store = CountedStore(bus.redis)
    router = Router(settings=Settings(_env_file=None), bus=bus, rest=None, store=store,
                    quality=Quality(bus.redis), account=None, failover=None, refuse_all="no exchange here")
    burst = [OrderIntent(intent_id=f"s-BTCUSDT-{n}", symbol="BTCUSDT", side="Buy", qty="0.001",
                         created_ts_ns=now_ns()) for n in range(5)]
    await bus.publish_many([(c.EXEC_INTENTS, i) for i in burst])

    async def run_until_rejected(consumer: Consumer, n: int) -> None:
        task = asyncio.create_task(consumer.run())
        try:
            await wait_until_async(lambda: consumer.handled == n and not router.tasks, timeout=20,
                                   what=f"{n} intents handled")
        finally:
            consumer.stop()
            await asyncio.wait_for(task, 20)

    def consumer(group: str) -> Consumer:
        return Consumer(bus, stream=c.EXEC_INTENTS, group=group, name="c1", handler=router.handle,
                        types=(OrderIntent,), start_id="0", prepare=router.record)

    try:
        await run_until_rejected(consumer("execution"), 5)
        assert store.calls == [[i.intent_id for i in burst]]  # one pipeline for the five, none in handle()
        # the same entries read again by a new group (as after a lost ack): known, and not worked again
        await run_until_rejected(consumer("again"), 5)
        assert store.calls[1] == [i.intent_id for i in burst] and len(store.calls) == 2
        events = [decode(f[c.PAYLOAD_FIELD]) for _, f in await bus.redis.xrange(c.EXEC_EVENTS)]
        rejected = [e.order_link_id for e in events if isinstance(e, OrderEvent)]
        assert sorted(rejected) == sorted(i.intent_id for i in burst)  # each once
        for i in burst:
            rec = await store.intent(i.intent_id)
            assert rec.status == "rejected" and rec.reason == "no exchange here"
    finally:
        await bus.close()
