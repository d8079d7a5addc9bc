"""The strategy service's entry point: features, detection, scoring, risk (domain logic: the strategy_service issue).

For now it boots through the common runner, heartbeats, obeys sys.control and exposes metrics.
"""

from common.lifecycle import Runtime, run_service


async def setup(rt: Runtime) -> None:
    rt.health.details["mode"] = rt.settings.execution_mode.value


def main() -> None:
    run_service("strategy", setup, dist="scalper-strategy")
