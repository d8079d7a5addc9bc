"""The worker service's entry point: scheduled housekeeping jobs (see worker.service)."""

from common.lifecycle import Runtime, run_service
from worker.service import WorkerService


async def setup(rt: Runtime) -> None:
    rt.health.details["mode"] = rt.settings.execution_mode.value
    await WorkerService(rt).start()


def main() -> None:
    run_service("worker", setup, dist="scalper-worker")
