"""Public market endpoints as Bybit answers them: instruments-info honours `status`, and a category
this exchange does not trade is answered with an empty list."""

from __future__ import annotations

import httpx
import pytest

pytestmark = pytest.mark.service


def get(sim, path: str, **q) -> dict:
    return httpx.get(f"{sim.rest}{path}", params=q, timeout=10).json()


def test_instruments_info_honours_status(sim):
    trading = get(sim, "/v5/market/instruments-info", category="linear", status="Trading")["result"]["list"]
    assert [i["symbol"] for i in trading] == ["BTCUSDT", "ETHUSDT"]
    # a client asking for each status sees each market once
    assert get(sim, "/v5/market/instruments-info", category="linear", status="PreLaunch")["result"]["list"] == []
    assert len(get(sim, "/v5/market/instruments-info", category="linear")["result"]["list"]) == 2


def test_an_untraded_category_lists_nothing(sim):
    for path in ("/v5/market/instruments-info", "/v5/market/tickers"):
        r = get(sim, path, category="inverse")
        assert (r["retCode"], r["result"]["list"], r["result"]["category"]) == (0, [], "inverse"), path
