"""Protection in every state: a bare position gets TP and SL while execution is held (operator safe
mode and a private stream that is down), and a fill made during the hold reaches exec.events once."""

from __future__ import annotations

import subprocess
import time

import pytest

from common import constants as c
from common.schemas import FillEvent, decode
from tests.support import VENV_BIN, wait_until

pytestmark = pytest.mark.service
BOUND_S = 5.0  # EXEC_PROTECT_BOUND_S's default: a bare position has TP/SL within it
POLL_S = 1.0  # EXEC_PROTECT_POLL_S's default: the loop may notice it this late


def _hold(execution) -> None:
    """Both holds at once: the operator's safe mode, and the private stream dropped and kept silent."""
    subprocess.run([str(VENV_BIN / "scalperctl"), "safe-mode", "on"], env=execution.env, check=True,
                   capture_output=True, timeout=30)
    execution.faults(drop=["private"], ws_private_silent=True)
    wait_until(lambda: {"operator", "ws"} <= set(execution.state().get("holds", {})), timeout=20,
               what="both holds")


def _protected(execution, symbol: str) -> dict | None:
    return next((p for p in execution.positions() if p["symbol"] == symbol
                 and float(p["takeProfit"]) > 0 and float(p["stopLoss"]) > 0), None)


def _fills(execution, link: str) -> list[FillEvent]:
    return [m for m in (decode(f[c.PAYLOAD_FIELD]) for _, f in execution.r.xrange(c.EXEC_EVENTS))
            if isinstance(m, FillEvent) and m.order_link_id == link]


def test_a_bare_position_gets_tp_and_sl_within_the_bound_while_held(execution):
    execution.start().wait_state("NORMAL")
    _hold(execution)
    execution.post("/v5/order/create", {"symbol": "ETHUSDT", "side": "Buy", "orderType": "Market", "qty": "0.5"})
    t0 = time.monotonic()
    wait_until(lambda: _protected(execution, "ETHUSDT"), timeout=BOUND_S + POLL_S + 5, what="TP and SL while held")
    assert time.monotonic() - t0 < BOUND_S + POLL_S
    assert execution.state()["state"] == "SAFE"  # still held: protection never waited for NORMAL


def test_chaos_a_resting_order_filling_during_a_hold_is_protected_and_its_fill_published_once(execution):
    """During both holds a limit order (no TP/SL) rests at the best bid until the market fills it. Within
    the bound the position has TP and SL on the exchange, and its fill reaches exec.events once."""
    execution.start().wait_state("NORMAL")
    _hold(execution)
    bid = execution.get("/v5/market/orderbook", symbol="ETHUSDT", limit=1)["b"][0][0]
    link = "chaos-resting"
    execution.post("/v5/order/create", {"symbol": "ETHUSDT", "side": "Buy", "orderType": "Limit", "qty": "0.05",
                                        "price": bid, "timeInForce": "PostOnly", "orderLinkId": link})
    # PostOnly: it rests (never takes on arrival); a busy market may have filled it already by now
    assert execution.history(link)[0]["orderStatus"] in ("New", "PartiallyFilled", "Filled")
    [order] = wait_until(lambda: [o for o in execution.history(link) if o["orderStatus"] == "Filled"] or None,
                         timeout=120, interval=0.2, what="the resting order filled by the market")
    filled_at = time.monotonic()
    wait_until(lambda: _protected(execution, "ETHUSDT"), timeout=BOUND_S + POLL_S + 5, what="TP and SL while held")
    assert time.monotonic() - filled_at < BOUND_S + POLL_S + 1  # the REST poll's second of granularity
    assert execution.state()["state"] == "SAFE"
    subprocess.run([str(VENV_BIN / "scalperctl"), "safe-mode", "off"], env=execution.env, check=True,
                   capture_output=True, timeout=30)
    execution.faults(reset=True)
    execution.wait_state("NORMAL", timeout=60)
    wait_until(lambda: _fills(execution, link), timeout=30, what="the fill on exec.events")
    fills = _fills(execution, link)
    assert sum(float(f.qty) for f in fills) == float(order["cumExecQty"])
    assert len({f.exec_id for f in fills}) == len(fills)  # each execution once


def test_a_position_that_cannot_be_protected_is_alerted_retried_then_closed_and_never_stops_the_others(execution):
    """EXEC_DEFAULT_SL_PCT=150: a long's SL would be below zero, so every TP/SL call on it fails; a short
    is fine. The long's failures are alerted (WARN each, CRIT past the bound) and retried with backoff;
    after EXEC_PROTECT_MAX_TRIES the policy `close` closes it; the short is protected all along."""
    execution.env.update(EXEC_DEFAULT_SL_PCT="150", EXEC_UNPROTECTED_POLICY="close", EXEC_PROTECT_MAX_TRIES="3")
    execution.start().wait_state("NORMAL")
    execution.post("/v5/order/create", {"symbol": "BTCUSDT", "side": "Buy", "orderType": "Market", "qty": "0.01"})
    execution.post("/v5/order/create", {"symbol": "ETHUSDT", "side": "Sell", "orderType": "Market", "qty": "0.1"})
    wait_until(lambda: _protected(execution, "ETHUSDT"), timeout=BOUND_S + POLL_S + 5, what="the short protected")
    wait_until(lambda: all(p["symbol"] != "BTCUSDT" for p in execution.positions()), timeout=60,
               what="the long closed by policy")
    alerts = [(a.severity.value, a.title) for a in (decode(f[c.PAYLOAD_FIELD]) for _, f in
                                                     execution.r.xrange(c.SYS_ALERTS))]
    assert ("WARN", "TP/SL failed on BTCUSDT, retrying") in alerts
    assert ("CRIT", "position BTCUSDT cannot be protected: closed (policy close)") in alerts
    assert _protected(execution, "ETHUSDT")


def _unprotected(execution) -> float | None:
    """scalper_exec_positions_unprotected as execution's /metrics shows it now."""
    line = next((ln for ln in execution.metrics().splitlines() if ln.startswith("scalper_exec_positions_unprotected ")),
                None)
    return float(line.split()[1]) if line else None


def test_a_position_left_bare_shows_in_the_unprotected_gauge_until_it_is_gone(execution):
    """The gauge Prometheus alerts on (ScalperPositionUnprotected): a long that cannot get its SL (150 %
    below entry) under the policy `alert` stays bare and counts 1, a protected short does not count;
    once the long is closed by hand the gauge is back to 0."""
    execution.env.update(EXEC_DEFAULT_SL_PCT="150", EXEC_UNPROTECTED_POLICY="alert")
    execution.start().wait_state("NORMAL")
    assert wait_until(lambda: _unprotected(execution) == 0, timeout=20, what="the gauge after the first poll")
    execution.post("/v5/order/create", {"symbol": "BTCUSDT", "side": "Buy", "orderType": "Market", "qty": "0.01"})
    execution.post("/v5/order/create", {"symbol": "ETHUSDT", "side": "Sell", "orderType": "Market", "qty": "0.1"})
    wait_until(lambda: _protected(execution, "ETHUSDT"), timeout=BOUND_S + POLL_S + 5, what="the short protected")
    wait_until(lambda: _unprotected(execution) == 1, timeout=20, what="the bare long counted")
    execution.post("/v5/order/create", {"symbol": "BTCUSDT", "side": "Sell", "orderType": "Market", "qty": "0.01",
                                        "reduceOnly": True})
    wait_until(lambda: _unprotected(execution) == 0, timeout=20, what="the gauge back to 0 once the long is closed")
    assert _protected(execution, "ETHUSDT")
