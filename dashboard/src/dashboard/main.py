"""The dashboard service: health monitor, alert engine, web app and (with a Telegram token and chat) the
Telegram bot and its daily summary, in one runner-managed process."""

import sys

from common.lifecycle import Runtime, run_service
from common.schemas import Alert, Heartbeat

from common import config
from common import constants as c
from dashboard.alert_engine import AlertEngine
from dashboard.app import create_app
from dashboard.auth.access import check_exposure
from dashboard.auth.audit import Audit
from dashboard.auth.session import session_secret
from dashboard.health_monitor import HealthMonitor
from dashboard.bot_replies import Replies
from dashboard.daily_summary import DailySummary, trigger
from dashboard.telegram import Telegram
from dashboard.telegram_bot import TelegramBot
from dashboard.http_server import serve_task, systemd_socket_host


async def setup(rt: Runtime) -> None:
    """Wire the monitor, the alert engine and the web app onto the runtime, in dependency order."""
    settings = rt.settings
    rt.health.details["mode"] = settings.execution_mode.value
    monitor = HealthMonitor(rt)
    telegram = Telegram(
        base_url=settings.telegram_api_url,
        token=settings.telegram_bot_token.get_secret_value(),
        chat_id=settings.telegram_chat_id,
    )
    alerts = AlertEngine(settings, telegram)
    alerts.load_history()
    rt.consume(c.SYS_HEALTH, monitor.on_heartbeat, types=(Heartbeat,))
    rt.consume(c.SYS_ALERTS, alerts.on_alert, types=(Alert,))
    rt.task("health-monitor", monitor.run)
    rt.task("telegram", alerts.run)
    app = create_app(rt=rt, monitor=monitor, alerts=alerts)
    await app.state.scenarios.close_interrupted()
    rt.task("web", serve_task(rt, app), graceful=True)
    if telegram.configured:
        start_bot(rt, telegram=telegram, replies=Replies(rt=rt, monitor=monitor, alerts=alerts),
                  audit=app.state.audit)
    rt.on_shutdown(telegram.close)


def start_bot(rt: Runtime, *, telegram: Telegram, replies: Replies, audit: Audit) -> None:
    """The admin chat's commands and, when TELEGRAM_SUMMARY_TIME is set, the daily summary: tasks that
    are not critical (whatever Telegram does, the dashboard stays up)."""
    settings = rt.settings
    bot = TelegramBot(telegram=telegram, redis=rt.bus.redis, replies=replies, audit=audit,
                      poll_timeout_s=settings.telegram_poll_timeout_s)
    rt.task("telegram-bot", bot.run, critical=False)
    if settings.telegram_summary_time:
        summary = DailySummary(telegram=telegram, replies=replies,
                               trigger=trigger(settings.telegram_summary_time, settings.telegram_timezone))
        rt.task("telegram-summary", summary.run, critical=False)


def main() -> None:
    """The console script: refuse an exposed open mode or a short session key (exit 78), then run the
    service."""
    settings = config.load_or_exit(service="dashboard")
    check_exposure(settings, listen_host=systemd_socket_host())
    try:
        session_secret(settings)
    except config.ConfigError as e:
        print(f"config error: {e}", file=sys.stderr, flush=True)
        raise SystemExit(config.EX_CONFIG) from None
    run_service("dashboard", setup, dist="scalper-dashboard")
