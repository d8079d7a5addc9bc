"""The market service's entry point: Bybit public feed -> local books, trades, microstructure -> bus."""

from common.lifecycle import Runtime, run_service
from market_service import service


async def setup(rt: Runtime) -> None:
    await service.setup(rt)


def main() -> None:
    run_service("market", setup, dist="scalper-market")
