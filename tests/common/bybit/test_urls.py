"""Base URLs: the local simulator in SIM, Bybit's hosts for BYBIT_NETWORK otherwise, and each
BYBIT_*_URL setting overrides its own."""

from __future__ import annotations

import pytest
from common.bybit.urls import SIM_PORT, urls
from common.config import Settings

pytestmark = pytest.mark.unit


def test_mode_network_hosts_and_overrides(monkeypatch):
    for name in ("EXECUTION_MODE", "BYBIT_NETWORK", "BYBIT_REST_URL", "BYBIT_WS_PUBLIC_URL", "BYBIT_WS_PRIVATE_URL"):
        monkeypatch.delenv(name, raising=False)
    local = urls(Settings(_env_file=None))  # SIM is the default mode: no network needed
    assert (local.rest, local.ws_public, local.ws_private) == (
        f"http://127.0.0.1:{SIM_PORT}", f"ws://127.0.0.1:{SIM_PORT}/v5/public/linear",
        f"ws://127.0.0.1:{SIM_PORT}/v5/private")
    main = urls(Settings(_env_file=None, execution_mode="DRY"))
    assert (main.rest, main.ws_public, main.ws_private) == (
        "https://api.bybit.com", "wss://stream.bybit.com/v5/public/linear", "wss://stream.bybit.com/v5/private")
    test = urls(Settings(_env_file=None, execution_mode="DRY", bybit_network="testnet"))
    assert test.rest == "https://api-testnet.bybit.com" and test.ws_private.startswith("wss://stream-testnet.")
    sim = urls(Settings(_env_file=None, execution_mode="DRY", bybit_rest_url="http://127.0.0.1:9/",
                        bybit_ws_public_url="ws://127.0.0.1:9/p"))
    assert (sim.rest, sim.ws_public, sim.ws_private) == (
        "http://127.0.0.1:9", "ws://127.0.0.1:9/p", "wss://stream.bybit.com/v5/private")
