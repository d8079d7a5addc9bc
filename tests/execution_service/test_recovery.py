"""The boot reconciliation: ghost orders cancelled, foreign ones left alone, naked and zombie positions
protected, fills made while the service was down picked up."""

from __future__ import annotations

import json
from decimal import ROUND_UP, Decimal

import pytest

from common.schemas import FillEvent, Severity, decode

from common import constants as c
from tests.execution_service.conftest import ADMIN_TOKEN, Exec, btc_max_mkt_listing
from tests.support import start_sim, wait_until

pytestmark = pytest.mark.service


def test_boot_reconciliation_cancels_ghosts_keeps_foreign_protects_positions(execution):
    p = execution.price()
    far = f"{p * 0.8:.1f}"
    for link in ("m-ghost-1", "foreign-1"):
        execution.post("/v5/order/create", {"symbol": "BTCUSDT", "side": "Buy", "orderType": "Limit",
                                            "qty": "0.01", "price": far, "orderLinkId": link})
    execution.post("/v5/order/create", {"symbol": "ETHUSDT", "side": "Sell", "orderType": "Market", "qty": "0.1",
                                        "orderLinkId": "foreign-naked"})  # a position without TP/SL
    execution.start().wait_state("NORMAL")

    assert {o["orderLinkId"] for o in execution.orders()} == {"foreign-1"}
    assert execution.history("m-ghost-1")[0]["orderStatus"] == "Cancelled"
    assert set(execution.view(c.EXEC_ORDERS_KEY)) == {"foreign-1"}  # shown, not touched
    [pos] = execution.positions()
    assert pos["symbol"] == "ETHUSDT" and float(pos["stopLoss"]) > float(pos["avgPrice"]) > float(pos["takeProfit"]) > 0
    # set by trading-stop with positionIdx, triggering on the mark price by default (EXEC_*_TRIGGER_BY)
    assert (pos["positionIdx"], pos["tpTriggerBy"], pos["slTriggerBy"]) == (0, "MarkPrice", "MarkPrice")

    plan = json.loads(execution.r.lindex(c.EXEC_RECOVERY_KEY, 0))
    steps = {s["name"]: s for s in plan["steps"]}
    assert plan["trigger"] == "start" and plan["outcome"] == "ok"
    assert "m-ghost-1" in steps["cancel ghost orders"]["detail"]
    assert steps["TP/SL on every position"]["outcome"] == "ok"  # by this step or, already, the protection loop
    assert steps["zombie positions"]["detail"].startswith("adopted: ETHUSDT Sell")
    alerts = [decode(f[c.PAYLOAD_FIELD]) for _, f in execution.r.xrange(c.SYS_ALERTS)]
    assert any(a.severity is Severity.WARN and "foreign" in a.title for a in alerts)
    fills = [m for m in (decode(f[c.PAYLOAD_FIELD]) for _, f in execution.r.xrange(c.EXEC_EVENTS))
             if isinstance(m, FillEvent)]
    assert fills == []  # a first boot records the history, never replays it as new fills


def test_zombie_position_is_flattened_by_policy_in_closes_of_at_most_max_mkt_order_qty(redis_url, tmp_path):
    """BTCUSDT listed with maxMktOrderQty 0.004 (an --instruments file): a 0.01 zombie is closed by three
    market orders, 0.004 + 0.004 + 0.002, each one Bybit accepts."""
    sim = start_sim("--admin-token", ADMIN_TOKEN, "--instruments", str(btc_max_mkt_listing(tmp_path)),
                    tmp_path=tmp_path)
    execution = Exec(redis_url=redis_url, sim=sim, tmp_path=tmp_path, EXEC_ZOMBIE_POLICY="flatten")
    try:
        execution.post("/v5/order/create", {"symbol": "BTCUSDT", "side": "Buy", "orderType": "Limit",
                                            "price": f"{execution.price() * 1.01:.1f}", "qty": "0.01",
                                            "orderLinkId": "foreign-zombie"})  # a Limit order may exceed it
        assert execution.positions()
        execution.start().wait_state("NORMAL")
        assert execution.positions() == []
        plan = json.loads(execution.r.lindex(c.EXEC_RECOVERY_KEY, 0))
        [step] = [s for s in plan["steps"] if s["name"] == "zombie positions"]
        assert step["detail"] == "flattened: BTCUSDT Buy 0.01"

        def closes() -> list[dict]:  # the order history lags behind, as Bybit's does
            return [o for o in execution.get("/v5/order/history", symbol="BTCUSDT", limit=50)["list"]
                    if o["orderLinkId"].startswith("m-z-")]

        wait_until(lambda: len(closes()) == 3, timeout=10, what="three closing orders in the history")
        assert sorted(o["qty"] for o in closes()) == ["0.002", "0.004", "0.004"]
        assert all(o["reduceOnly"] and o["orderStatus"] == "Filled" for o in closes())
    finally:
        execution.close()
        sim.stop()


def test_a_hedge_mode_account_is_refused_at_boot_by_name(execution):
    """One-way positions only: an account in hedge mode keeps execution SAFE, and the plan says why."""
    execution.post("/v5/position/switch-mode", {"symbol": "BTCUSDT", "mode": 3})
    execution.start()
    wait_until(lambda: (raw := execution.r.lindex(c.EXEC_RECOVERY_KEY, 0))
               and json.loads(raw)["outcome"] == "failed", timeout=30, what="the boot recovery to fail")
    plan = json.loads(execution.r.lindex(c.EXEC_RECOVERY_KEY, 0))
    [failed] = [s for s in plan["steps"] if s["outcome"] == "failed"]
    assert "PositionModeError" in failed["detail"] and "BTCUSDT in hedge mode" in failed["detail"]
    assert execution.wait_state("SAFE")["state"] == "SAFE"


def _fills(execution) -> list[FillEvent]:
    return [m for m in (decode(f[c.PAYLOAD_FIELD]) for _, f in execution.r.xrange(c.EXEC_EVENTS))
            if isinstance(m, FillEvent)]


def test_every_fill_made_while_down_is_picked_up_past_one_page(redis_url, tmp_path):
    """More fills than one page of /v5/execution/list (100) happen while the service is down: the
    recovery follows the cursor from the last execution it knew, and publishes each fill once."""
    sim = start_sim("--admin-token", ADMIN_TOKEN, "--rate-limit-scale", "0", tmp_path=tmp_path)
    execution = Exec(redis_url=redis_url, sim=sim, tmp_path=tmp_path)
    try:
        execution.start().wait_state("NORMAL")
        execution.post("/v5/order/create", {"symbol": "ETHUSDT", "side": "Buy", "orderType": "Market",
                                            "qty": "0.01", "orderLinkId": "behind-up"})
        wait_until(lambda: any(f.order_link_id == "behind-up" for f in _fills(execution)), timeout=30,
                   what="the fill made while up")
        execution.stop()
        links = [f"behind-down-{n}" for n in range(130)]
        for n, link in enumerate(links):
            execution.post("/v5/order/create", {"symbol": "ETHUSDT", "side": "Sell" if n % 2 else "Buy",
                                                "orderType": "Market", "qty": "0.01", "orderLinkId": link})
        execution.start().wait_state("NORMAL")
        wait_until(lambda: {f.order_link_id for f in _fills(execution)} >= set(links), timeout=60,
                   what="all 130 fills made while down")
        exec_ids = [f.exec_id for f in _fills(execution)]
        assert len(exec_ids) == len(set(exec_ids))  # each once
    finally:
        execution.close()
        sim.stop()


def test_the_periodic_resync_cancels_a_ghost_order_while_normal(execution):
    """An order of ours by prefix that no intent here made, placed while NORMAL: no recovery plan runs,
    and the periodic resync (EXEC_RECONCILE_INTERVAL_S=2) cancels it anyway."""
    execution.start().wait_state("NORMAL")
    plans = execution.r.llen(c.EXEC_RECOVERY_KEY)
    execution.post("/v5/order/create", {"symbol": "BTCUSDT", "side": "Buy", "orderType": "Limit", "qty": "0.01",
                                        "price": f"{execution.price() * 0.8:.1f}", "orderLinkId": "m-ghost-late"})
    wait_until(lambda: execution.history("m-ghost-late")[0]["orderStatus"] == "Cancelled", timeout=20,
               what="the ghost cancelled by the resync")
    assert execution.r.llen(c.EXEC_RECOVERY_KEY) == plans and execution.state()["state"] == "NORMAL"


def test_more_than_20_open_orders_and_positions_are_all_read_and_every_position_protected(redis_url, tmp_path):
    """Bybit's lists page 20 rows by default: 25 open orders and 22 positions (without TP/SL) on the
    exchange at boot all reach the service's view, and every position gets TP and SL."""
    symbols = [f"Q{chr(65 + i)}USDT" for i in range(22)]
    sim = start_sim("--admin-token", ADMIN_TOKEN, "--rate-limit-scale", "0",
                    "--symbols", ",".join(["BTCUSDT", *symbols]), tmp_path=tmp_path)
    execution = Exec(redis_url=redis_url, sim=sim, tmp_path=tmp_path)
    try:
        steps = {i["symbol"]: Decimal(i["lotSizeFilter"]["qtyStep"])
                 for i in execution.get("/v5/market/instruments-info", limit=1000)["list"]}
        for s in symbols:  # about 10 USDT each (Bybit's minimum order value is 5)
            qty = (Decimal(10) / Decimal(str(execution.price(s))) / steps[s]).to_integral_value(ROUND_UP) * steps[s]
            execution.post("/v5/order/create", {"symbol": s, "side": "Buy", "orderType": "Market", "qty": str(qty),
                                                "orderLinkId": f"many-{s}"})
        far = execution.price() * 0.5
        links = {f"rest-{n}" for n in range(25)}
        for n, link in enumerate(sorted(links)):
            execution.post("/v5/order/create", {"symbol": "BTCUSDT", "side": "Buy", "orderType": "Limit",
                                                "qty": "0.001", "price": f"{far - n:.1f}", "orderLinkId": link})
        execution.start().wait_state("NORMAL", timeout=90)
        assert set(execution.view(c.EXEC_ORDERS_KEY)) == links
        assert set(execution.view(c.EXEC_POSITIONS_KEY)) == set(symbols)

        def bare() -> list[str]:
            held = execution.get("/v5/position/list", settleCoin="USDT", limit=200)["list"]
            assert len([p for p in held if float(p["size"]) > 0]) == len(symbols)
            return [p["symbol"] for p in held if float(p["size"]) > 0
                    and not (float(p["takeProfit"]) > 0 and float(p["stopLoss"]) > 0)]
        wait_until(lambda: bare() == [], timeout=20, what="TP and SL on all 22 positions")
    finally:
        execution.close()
        sim.stop()
