"""The account of the simulator `make run` starts: SIM mode's credentials when none are configured.

`make run` starts its simulator with this account (unless BYBIT_API_KEY/SECRET are set), the way
`urls()` finds that simulator on loopback with no URL set. So a process in SIM mode given no
credentials, such as `scalperctl sim` next to `make run`, signs as the account the simulator knows.
"""

from __future__ import annotations

from dataclasses import dataclass

from common.config import ExecutionMode, Settings

SIM_API_KEY = "scalper-sim-key"
SIM_API_SECRET = "scalper-sim-secret"


@dataclass(frozen=True)
class Credentials:
    key: str
    secret: str


def credentials(settings: Settings) -> Credentials:
    """BYBIT_API_KEY and BYBIT_API_SECRET; in SIM mode an empty one is the local simulator's."""
    key, secret = settings.bybit_api_key.get_secret_value(), settings.bybit_api_secret.get_secret_value()
    if settings.execution_mode is ExecutionMode.SIM:
        key, secret = key or SIM_API_KEY, secret or SIM_API_SECRET
    return Credentials(key=key, secret=secret)
