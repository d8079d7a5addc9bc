"""A test-only service: `python -m tests.common.service_app`, the common runner around a Recorder.

It runs exactly as the five services do (`run_service`: config, bus, READY=1, watchdog, SIGTERM), as
the `strategy` service with its settings, and consumes `exec.intents` with the idempotent Recorder
of consumer_app, so tests can make a critical task hang (an intent with id "hang") or slow the work
down (TEST_DELAY_MS, in batches of TEST_BATCH). TEST_TASK_STALL_S shortens the time after which a silent task counts as hung.
TEST_ENDING_TASK_S adds a critical, unwatched task that beats never and returns after that many seconds.
"""

from __future__ import annotations

import asyncio
import os

from common import constants as c
from common import lifecycle
from common.lifecycle import Runtime, run_service
from common.schemas import OrderIntent
from tests.common.consumer_app import Recorder


async def setup(rt: Runtime) -> None:
    rt.health.details["loop"] = type(asyncio.get_running_loop()).__module__  # proves the runner's uvloop
    recorder = Recorder(rt.bus.redis, name=rt.consumer_name,
                        delay_s=float(os.environ.get("TEST_DELAY_MS", "0")) / 1000)
    rt.consume(c.EXEC_INTENTS, recorder, types=(OrderIntent,), start_id="0",
               batch=int(os.environ.get("TEST_BATCH", c.CONSUMER_BATCH)))
    if ending_s := float(os.environ.get("TEST_ENDING_TASK_S", "0")):
        rt.task("ending", lambda _progress: asyncio.sleep(ending_s), watched=False)


def main() -> None:
    lifecycle.TASK_STALL_S = float(os.environ.get("TEST_TASK_STALL_S", lifecycle.TASK_STALL_S))
    run_service(c.STRATEGY, setup, dist="scalper-strategy")


if __name__ == "__main__":
    main()
