"""Base URLs follow BYBIT_NETWORK, and each BYBIT_*_URL setting overrides its own."""

from __future__ import annotations

from common.bybit.urls import urls
from common.config import Settings


def test_network_hosts_and_overrides(monkeypatch):
    for name in ("BYBIT_NETWORK", "BYBIT_REST_URL", "BYBIT_WS_PUBLIC_URL", "BYBIT_WS_PRIVATE_URL"):
        monkeypatch.delenv(name, raising=False)
    main = urls(Settings(_env_file=None))
    assert (main.rest, main.ws_public, main.ws_private) == (
        "https://api.bybit.com", "wss://stream.bybit.com/v5/public/linear", "wss://stream.bybit.com/v5/private")
    test = urls(Settings(_env_file=None, bybit_network="testnet"))
    assert test.rest == "https://api-testnet.bybit.com" and test.ws_private.startswith("wss://stream-testnet.")
    sim = urls(Settings(_env_file=None, bybit_rest_url="http://127.0.0.1:9/",
                        bybit_ws_public_url="ws://127.0.0.1:9/p"))
    assert (sim.rest, sim.ws_public, sim.ws_private) == (
        "http://127.0.0.1:9", "ws://127.0.0.1:9/p", "wss://stream.bybit.com/v5/private")
