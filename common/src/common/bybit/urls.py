"""Base URLs: Bybit's hosts for BYBIT_NETWORK, each overridable (the simulator, a proxy)."""

from __future__ import annotations

from dataclasses import dataclass

from common.config import BybitNetwork, ExecutionMode, Settings

_HOSTS = {
    BybitNetwork.MAINNET: ("https://api.bybit.com", "wss://stream.bybit.com"),
    BybitNetwork.TESTNET: ("https://api-testnet.bybit.com", "wss://stream-testnet.bybit.com"),
}
# SIM needs no network: without overrides it talks to the simulator `make run` starts on loopback.
SIM_PORT = 8090
_SIM_HOSTS = (f"http://127.0.0.1:{SIM_PORT}", f"ws://127.0.0.1:{SIM_PORT}")
PUBLIC_LINEAR_PATH = "/v5/public/linear"
PRIVATE_PATH = "/v5/private"


@dataclass(frozen=True)
class Urls:
    rest: str
    ws_public: str
    ws_private: str


def urls(settings: Settings) -> Urls:
    """The three base URLs this process talks to; BYBIT_*_URL settings win over the defaults, which
    are Bybit's hosts for BYBIT_NETWORK, or the local simulator in SIM mode."""
    sim = settings.execution_mode is ExecutionMode.SIM
    rest, ws = _SIM_HOSTS if sim else _HOSTS[settings.bybit_network]
    return Urls(rest=(settings.bybit_rest_url or rest).rstrip("/"),
                ws_public=settings.bybit_ws_public_url or ws + PUBLIC_LINEAR_PATH,
                ws_private=settings.bybit_ws_private_url or ws + PRIVATE_PATH)
