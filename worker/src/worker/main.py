"""The worker service's entry point: scheduled jobs (domain logic: the worker issue).

For now it boots through the common runner, heartbeats, obeys sys.control and exposes metrics.
"""

from common.lifecycle import Runtime, run_service


async def setup(rt: Runtime) -> None:
    rt.health.details["mode"] = rt.settings.execution_mode.value


def main() -> None:
    run_service("worker", setup, dist="scalper-worker")
