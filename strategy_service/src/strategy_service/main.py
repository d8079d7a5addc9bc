"""The strategy service's entry point (`scalper-strategy`): the common runner with this service's wiring.

Reads market.trades and market.book, publishes scored signals to strategy.signals and order intents
to exec.intents, follows its positions on exec.events, and obeys sys.control (safe mode, profile
switch and reload); see service.py.
"""

from common.lifecycle import run_service
from strategy_service import service


def main() -> None:
    run_service("strategy", service.setup, dist="scalper-strategy")
