"""The execution service's entry point: orders, TP/SL, positions, failover (domain logic: the execution_service issue).

For now it boots through the common runner, heartbeats, obeys sys.control and exposes metrics.
"""

from common.lifecycle import Runtime, run_service


async def setup(rt: Runtime) -> None:
    rt.health.details["mode"] = rt.settings.execution_mode.value


def main() -> None:
    run_service("execution", setup, dist="scalper-execution")
