"""The dashboard service: health monitor, alert engine and web app in one runner-managed process."""

import sys

from common.lifecycle import Runtime, run_service
from common.schemas import Alert, Heartbeat

from common import config
from common import constants as c
from dashboard.alert_engine import AlertEngine
from dashboard.app import create_app
from dashboard.auth.access import check_exposure
from dashboard.auth.session import session_secret
from dashboard.health_monitor import HealthMonitor
from dashboard.telegram import Telegram
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
    rt.on_shutdown(telegram.close)


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
