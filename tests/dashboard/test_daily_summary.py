"""dashboard.daily_summary: the summary goes to the admin chat of the fake Bot API (over HTTP) at
TELEGRAM_SUMMARY_TIME in TELEGRAM_TIMEZONE, daylight saving time included, once per day, with the
figures of a real Redis; a Telegram failure is retried. The clock is injected: no test waits for the hour."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from common.config import Settings
from redis import asyncio as aioredis

from dashboard.alert_engine import AlertEngine
from dashboard.bot_replies import Replies
from dashboard.daily_summary import DailySummary, trigger
from dashboard.health_monitor import HealthMonitor
from dashboard.telegram import Telegram
from tests.dashboard.conftest import TOKEN
from tests.dashboard.routes.test_overview import _seed
from tests.support import wait_until_async

pytestmark = pytest.mark.service


class FakeClock:
    """Time that jumps to each moment slept until; after `fires` jumps it sleeps for ever."""

    def __init__(self, start: datetime, *, fires: int) -> None:
        self.t, self.fires = start, fires
        self.slept_until: list[datetime] = []

    def now(self) -> datetime:
        return self.t

    async def sleep_until(self, moment: datetime) -> None:
        self.slept_until.append(moment.astimezone(UTC))
        if len(self.slept_until) > self.fires:
            await asyncio.Event().wait()
        self.t = moment


@pytest.fixture
async def summary_for(redis_url, telegram, tmp_path):
    """summary_for(at, clock, **settings): a DailySummary on the test's Redis and the fake Telegram."""
    made = []

    def make(at: str, clock: FakeClock, sleep=asyncio.sleep, **values) -> DailySummary:
        settings = Settings(_env_file=None, data_dir=tmp_path, telegram_summary_time=at, **values)
        rt = SimpleNamespace(settings=settings, bus=SimpleNamespace(redis=aioredis.Redis.from_url(redis_url)))
        tg = Telegram(base_url=telegram.url, token=TOKEN, chat_id="42")
        replies = Replies(rt=rt, monitor=HealthMonitor(rt), alerts=AlertEngine(settings, tg))
        made.append((rt.bus.redis, tg))
        return DailySummary(telegram=tg, replies=replies, clock=clock, sleep=sleep,
                            trigger=trigger(at, settings.telegram_timezone))

    yield make
    for redis, tg in made:
        await redis.aclose()
        await tg.close()


@pytest.mark.parametrize(("start", "due"), [
    # winter: 21:30 CET is 20:30 UTC, every day
    (datetime(2026, 12, 6, 10, tzinfo=UTC), [datetime(2026, 12, d, 20, 30, tzinfo=UTC) for d in (6, 7, 8)]),
    # the night of 28 to 29 March 2026 Berlin moves to CEST: 21:30 is 20:30 UTC, then 19:30 UTC
    (datetime(2026, 3, 28, 21, tzinfo=UTC), [datetime(2026, 3, d, 19, 30, tzinfo=UTC) for d in (29, 30, 31)]),
])
async def test_the_summary_goes_out_at_the_configured_time_once_a_day(summary_for, telegram, redis_url,
                                                                       start, due):
    _seed(redis_url)  # the wallet, a protected long, a round trip closed today
    clock = FakeClock(start, fires=2)
    summary = summary_for("21:30", clock, telegram_timezone="Europe/Berlin")
    task = asyncio.create_task(summary.run(None))
    try:
        await wait_until_async(lambda: len(clock.slept_until) == 3, timeout=20, what="a third wait")
    finally:
        task.cancel()
    assert clock.slept_until == due
    assert len(telegram.messages) == 2 and {m["chat_id"] for m in telegram.messages} == {"42"}
    first = telegram.texts()[0]
    local = due[0].astimezone(summary.replies.tz)
    assert first.startswith(f"Daily summary {local:%a %Y-%m-%d} 21:30 {local:%Z}\n")
    for figure in ("P&L today: realised 0.00, unrealised +6.00, total +6.00 USDT (fees -1.10)",
                   "Trades today: 1 closed, 1 won, net +3.00 USDT",
                   "Equity 9,800.00 USDT (-200.00 today, drawdown 2.00 % of the 5.00 % limit)",
                   "Open positions: 1", "Alerts unacknowledged: 0", "Safe mode: off"):
        assert figure in first, figure


async def test_a_failed_send_is_retried_with_backoff(summary_for, telegram):
    waits: list[float] = []

    async def no_wait(s: float) -> None:
        waits.append(s)

    telegram.fail_next = 2
    summary = summary_for("07:00", FakeClock(datetime(2026, 12, 6, tzinfo=UTC), fires=0), sleep=no_wait)
    assert await summary.send(datetime(2026, 12, 6, 7, tzinfo=UTC)) is True
    assert telegram.refused == 2 and len(waits) == 2 and all(w > 0 for w in waits)
    assert telegram.texts()[0].startswith("Daily summary Sun 2026-12-06 07:00 UTC")
    telegram.fail_next = 100  # down for good: given up after the tries, no exception
    assert await summary.send(datetime(2026, 12, 7, 7, tzinfo=UTC)) is False
    assert len(telegram.messages) == 1
