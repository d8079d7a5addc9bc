"""The order history lags behind the live state as Bybit's does, while the realtime query by orderLinkId
finds a just-closed order at once; `--history-delay-ms 0` is the lenient switch."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest

from tests.exchange_sim.server.conftest import last_price, signed, tick
from tests.support import start_sim, wait_until

pytestmark = pytest.mark.service
Q = {"category": "linear", "symbol": "BTCUSDT"}


def _place_and_cancel(sim, link: str) -> float:
    """A resting order cancelled at once; returns when the cancel was acknowledged (monotonic s)."""
    body = {**Q, "side": "Buy", "orderType": "Limit", "qty": "0.001",
            "price": tick(last_price(sim) * Decimal("0.5")), "orderLinkId": link, "positionIdx": 0}
    assert signed(sim, "POST", "/v5/order/create", body=body)["retCode"] == 0
    assert signed(sim, "POST", "/v5/order/cancel", body={**Q, "orderLinkId": link})["retCode"] == 0
    return time.monotonic()


def _history(sim, **q) -> list[dict]:
    return signed(sim, "GET", "/v5/order/history", params={**Q, **q})["result"]["list"]


def test_history_lags_while_realtime_by_link_finds_the_closed_order_at_once(sim):
    cancelled_at = _place_and_cancel(sim, "lag-1")
    # A cancel's reply acknowledges the request; the realtime query shows the order Cancelled right after
    # (a loaded machine may answer it a moment before the cancel is applied, as Bybit may).
    wait_until(lambda: [o["orderStatus"] for o in signed(sim, "GET", "/v5/order/realtime", params={
        "category": "linear", "orderLinkId": "lag-1"})["result"]["list"]] == ["Cancelled"], timeout=5,
               what="realtime by orderLinkId showing the closed order")
    # The history is behind by the default 1.5 s (SimConfig.history_delay_ms); that it lags at all is
    # proven with a 5 s delay below, which a loaded machine's stall cannot outlast.
    # The lagging history shows the order as it was 1.5 s before (New, on a machine slow between the
    # create and the cancel), then Cancelled.
    wait_until(lambda: [o["orderStatus"] for o in _history(sim, orderLinkId="lag-1")] == ["Cancelled"],
               timeout=10, what="the cancelled order in the history")
    # realtime without an id lists open orders only
    assert signed(sim, "GET", "/v5/order/realtime", params=Q)["result"]["list"] == []


def test_a_longer_delay_is_honoured(tmp_path):
    """5 s instead of the default 1.5: the history stays empty for seconds, whatever the machine's load
    does to one request (the default delay's lower bound is too close to a loaded machine's stalls)."""
    sim = start_sim("--history-delay-ms", "5000", tmp_path=tmp_path)
    try:
        cancelled_at = _place_and_cancel(sim, "lag-5")
        assert _history(sim, orderLinkId="lag-5") == []
        wait_until(lambda: _history(sim, orderLinkId="lag-5"), timeout=15, what="the order in the history")
        assert time.monotonic() - cancelled_at >= 3.0  # 5 s after the cancel, less the slack of one request
    finally:
        sim.stop()


def test_history_honours_order_status(sim):
    _place_and_cancel(sim, "st-1")
    assert signed(sim, "POST", "/v5/order/create", body={**Q, "side": "Buy", "orderType": "Market",
                                                         "qty": "0.001", "orderLinkId": "st-2"})["retCode"] == 0
    wait_until(lambda: len(_history(sim)) == 2, timeout=10, what="both orders in the history")
    assert [o["orderLinkId"] for o in _history(sim, orderStatus="Filled")] == ["st-2"]
    assert [o["orderLinkId"] for o in _history(sim, orderStatus="Cancelled")] == ["st-1"]
    assert signed(sim, "GET", "/v5/order/history", params={**Q, "orderStatus": "Bogus"})["retCode"] == 10001


def test_no_delay_is_the_lenient_switch(tmp_path):
    sim = start_sim("--history-delay-ms", "0", tmp_path=tmp_path)
    try:
        _place_and_cancel(sim, "now-1")
        assert [o["orderStatus"] for o in _history(sim, orderLinkId="now-1")] == ["Cancelled"]
    finally:
        sim.stop()
