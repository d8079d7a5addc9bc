"""The market service's entry point: Bybit public feed, order books and microstructure (domain logic: the market_service issue).

For now it boots through the common runner, heartbeats, obeys sys.control and exposes metrics.
"""

from common.lifecycle import Runtime, run_service


async def setup(rt: Runtime) -> None:
    rt.health.details["mode"] = rt.settings.execution_mode.value


def main() -> None:
    run_service("market", setup, dist="scalper-market")
