"""Crontab lines (the WORKER_*_CRON settings) as cron means them, in UTC: read once by the config, so a
bad line is a named config error, and by the worker's scheduler, so both read it the same way."""

from __future__ import annotations

import re
from datetime import timezone

from apscheduler.triggers.cron import CronTrigger

_DOW = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")


def cron_trigger(line: str) -> CronTrigger:
    """APScheduler numbers weekdays from Monday = 0, crontab from Sunday = 0 (or 7), so the day-of-week
    field's numbers become names first (a step after / stays). ValueError for what is not a crontab line."""
    fields = line.split()
    if len(fields) == 5:
        days, slash, step = fields[4].partition("/")
        fields[4] = re.sub(r"\d+", lambda m: _DOW[int(m.group())] if int(m.group()) < 8 else m.group(), days) \
            + slash + step
    return CronTrigger.from_crontab(" ".join(fields), timezone=timezone.utc)
