"""strategy_service.service: the risk snapshot's saves land in the order their states were taken.

The exec consumer saves after each event and the control handler after an operator's kill-switch reset;
the two run concurrently, each SET on a pooled connection of its own (one may still be connecting). A
save of the state before the reset that landed after the reset's save would bring the kill switch back at
the next start."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import fakeredis.aioredis
import pytest

from common import constants as c
from strategy_service import profile, risk_snapshot
from strategy_service.engine import Engine
from strategy_service.service import StrategyService

pytestmark = pytest.mark.unit


async def test_a_save_overtaken_by_a_newer_one_does_not_overwrite_it(tmp_path):
    redis = fakeredis.aioredis.FakeRedis()
    real_set, slow_one_in, go_on = redis.set, asyncio.Event(), asyncio.Event()

    async def first_set_slow(*args, **kw):
        if not slow_one_in.is_set():  # the first save's connection is still being set up
            slow_one_in.set()
            await go_on.wait()
        return await real_set(*args, **kw)

    redis.set = first_set_slow
    rt = SimpleNamespace(settings=SimpleNamespace(data_dir=tmp_path), health=SimpleNamespace(details={}),
                         bus=SimpleNamespace(redis=redis))
    service = StrategyService(rt, Engine(profile.load("balanced")))
    service.engine.risk.killed = "daily loss 4.30 % >= 3.0 %"
    before_reset = asyncio.create_task(service._save())  # the exec consumer, after the tripping event
    await slow_one_in.wait()
    service.engine.risk.reset_kill()  # the operator's reset, saved at once
    after_reset = asyncio.create_task(service._save())
    await asyncio.sleep(0.05)
    go_on.set()
    await asyncio.gather(before_reset, after_reset)
    assert risk_snapshot.decode(await redis.get(c.STRATEGY_RISK_KEY)).risk.killed == ""
