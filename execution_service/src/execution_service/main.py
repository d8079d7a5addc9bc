"""The execution service's entry point (`scalper-execution`): the common runner with this service's wiring."""

from common.lifecycle import run_service
from execution_service import service


def main() -> None:
    run_service("execution", service.setup, dist="scalper-execution")
