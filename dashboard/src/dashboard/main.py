"""The dashboard service's entry point: health monitor + web app in one runner-managed process."""

from common import constants as c
from common.lifecycle import Runtime, run_service
from common.schemas import Heartbeat
from dashboard.app import create_app
from dashboard.monitor import HealthMonitor
from dashboard.web import serve_task


async def setup(rt: Runtime) -> None:
    rt.health.details["mode"] = rt.settings.execution_mode.value
    monitor = HealthMonitor(rt)
    rt.consume(c.SYS_HEALTH, monitor.on_heartbeat, types=(Heartbeat,))
    rt.task("health-monitor", monitor.run)
    rt.task("web", serve_task(rt, create_app(monitor)), graceful=True)


def main() -> None:
    run_service("dashboard", setup, dist="scalper-dashboard")
