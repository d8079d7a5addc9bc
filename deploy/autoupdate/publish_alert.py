"""Publish one alert on the bus (sys.alerts) for the auto-update: what it tells the operator.

Run with a release's own interpreter (/opt/scalper/venv/bin/python), so the Alert is the bus's
message as every service writes it; the dashboard and Telegram take it from there.
Usage: publish_alert.py --env-file FILE --severity CRIT --title TITLE [--detail DETAIL]
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from common.bus import Bus
from common.schemas.system import Severity

from common import config

ALERT_KEY = "deploy:update"  # one incident per outcome stream: the dashboard deduplicates on it
SOURCE = "deploy"


async def publish(*, settings: config.Settings, severity: Severity, title: str, detail: str) -> None:
    bus = Bus(settings.redis_url.get_secret_value(), service=SOURCE, maxlen=settings.stream_maxlen)
    try:
        await bus.alert(key=ALERT_KEY, severity=severity, title=title, detail=detail)
    finally:
        await bus.close()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--env-file", type=Path, required=True)
    p.add_argument("--severity", choices=[s.value for s in Severity], required=True)
    p.add_argument("--title", required=True)
    p.add_argument("--detail", default="")
    args = p.parse_args()
    asyncio.run(publish(settings=config.load(args.env_file, service="scalperctl"), severity=Severity(args.severity),
                        title=args.title, detail=args.detail))


if __name__ == "__main__":
    main()
