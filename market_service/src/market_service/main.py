"""The market service's entry point (`scalper-market`): the common runner with this service's wiring."""

from common.lifecycle import run_service
from market_service import service


def main() -> None:
    run_service("market", service.setup, dist="scalper-market")
