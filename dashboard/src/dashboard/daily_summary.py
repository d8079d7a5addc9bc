"""The daily summary to the admin chat at TELEGRAM_SUMMARY_TIME (HH:MM) in TELEGRAM_TIMEZONE.

APScheduler's CronTrigger gives each next fire time (so daylight saving time is the library's business,
not hand-written date math); the clock is injectable so tests need not wait for the hour. A summary
missed while the dashboard was stopped is not sent late; a send that fails is retried a few times with
backoff, then logged and given up until the next day.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger
from common.health import Progress
from redis.backoff import EqualJitterBackoff

from dashboard.bot_replies import Replies
from dashboard.telegram import Telegram

log = logging.getLogger(__name__)
SEND_TRIES = 5
RETRY_BASE_S = 2.0
RETRY_CAP_S = 60.0
ONE_SECOND = timedelta(seconds=1)
LONGEST_NAP_S = 60.0  # a sleep towards the fire time wakes at least this often (the wall clock may jump)


class WallClock:
    """The real time, and sleeping until a moment of it."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    async def sleep_until(self, moment: datetime) -> None:
        while (left := (moment - self.now()).total_seconds()) > 0:
            await asyncio.sleep(min(left, LONGEST_NAP_S))


def trigger(hh_mm: str, timezone: str) -> CronTrigger:
    """Every day at `hh_mm` ("21:30") in `timezone`."""
    hour, minute = hh_mm.split(":")
    return CronTrigger(hour=int(hour), minute=int(minute), timezone=ZoneInfo(timezone))


class DailySummary:
    """Sends `replies.summary` to the admin chat at each fire time of `trigger`."""

    def __init__(self, *, telegram: Telegram, replies: Replies, trigger: CronTrigger, clock=None,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        self.telegram, self.replies, self.trigger = telegram, replies, trigger
        self.clock = clock or WallClock()
        self._sleep = sleep  # the retry backoff's wait
        self._backoff = EqualJitterBackoff(cap=RETRY_CAP_S, base=RETRY_BASE_S)

    def next_fire(self, after: datetime) -> datetime:
        """The first fire time after `after`."""
        return self.trigger.get_next_fire_time(None, after)

    async def run(self, _progress: Progress) -> None:
        """Sleep until the next fire time, send, and again (never twice for one fire time)."""
        last: datetime | None = None
        while True:
            now = self.clock.now()
            due = self.next_fire(max(now, last + ONE_SECOND) if last else now)
            log.info("telegram_summary_next", extra={"ctx": {"at": due.isoformat()}})
            await self.clock.sleep_until(due)
            await self.send(due)
            last = due

    async def send(self, due: datetime) -> bool:
        """The summary due at `due`, tried SEND_TRIES times; whether it went out."""
        for attempt in range(1, SEND_TRIES + 1):
            try:
                await self.telegram.send(await self.replies.summary(due))
                log.info("telegram_summary_sent", extra={"ctx": {"at": due.isoformat()}})
                return True
            except Exception as e:  # noqa: BLE001 - Telegram or Redis down: retried, never fatal
                failure = {"at": due.isoformat(), "attempt": attempt, "error": type(e).__name__}
                log.warning("telegram_summary_failed", extra={"ctx": failure})
                if attempt < SEND_TRIES:
                    await self._sleep(self._backoff.compute(attempt))
        return False
