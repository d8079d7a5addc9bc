"""Intents become orders with TP/SL on the simulator, exactly once, also when a submit's answer is lost
(the simulator applies the order, then answers 502 or never); the CLI shows the same view."""

from __future__ import annotations

import json
import subprocess
import time

import pytest

from common import constants as c
from common.schemas import OrderIntent, encode, now_ns
from tests.execution_service.conftest import ADMIN_TOKEN, Exec, btc_max_mkt_listing
from tests.support import VENV_BIN, start_sim, wait_until

pytestmark = pytest.mark.service


def test_intent_to_order_with_tp_sl_once_and_the_cli_view(execution):
    execution.start().wait_state("NORMAL")
    p = execution.price()
    i = execution.intent(take_profit=f"{p * 1.02:.1f}", stop_loss=f"{p * 0.98:.1f}", reference_price=f"{p:.1f}")
    rec = wait_until(lambda: (r := execution.record(i.intent_id)) and r["status"] == "filled" and r, timeout=30,
                     what="the intent filled")
    [order] = execution.history(i.intent_id)
    assert order["orderId"] == rec["order_id"] and order["orderStatus"] == "Filled"
    [pos] = wait_until(lambda: execution.positions() or None, timeout=10, what="a position")
    assert float(pos["takeProfit"]) > p and 0 < float(pos["stopLoss"]) < p

    execution.r.xadd(c.EXEC_INTENTS, {c.PAYLOAD_FIELD: execution.r.xrange(c.EXEC_INTENTS)[-1][1][c.PAYLOAD_FIELD]})
    mine = wait_until(lambda: (v := execution.view(c.EXEC_POSITIONS_KEY)) and v, timeout=10, what="our position")
    assert mine["BTCUSDT"]["size"] == pos["size"] and mine["BTCUSDT"]["takeProfit"] == pos["takeProfit"]

    cli = subprocess.run([str(VENV_BIN / "scalperctl"), "positions"], env=execution.env, capture_output=True,
                         text=True, timeout=30)
    assert cli.returncode == 0, cli.stderr
    [shown] = json.loads(cli.stdout)["positions"]
    assert (shown["symbol"], shown["side"], shown["size"]) == ("BTCUSDT", "Buy", pos["size"])
    assert len(execution.history(i.intent_id)) == 1  # the replayed intent opened nothing


def _ctl(execution, *args: str) -> dict:
    out = subprocess.run([str(VENV_BIN / "scalperctl"), *args], env=execution.env, capture_output=True, text=True,
                         timeout=30)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_manual_order_from_the_cli_and_the_orders_view(execution):
    execution.start().wait_state("NORMAL")
    p = execution.price()
    sent = _ctl(execution, "order", "buy", "btcusdt", "0.01", "--limit", f"{p * 0.9:.1f}",
                "--tp", f"{p * 1.1:.1f}", "--sl", f"{p * 0.8:.1f}")
    link = sent["orderLinkId"]
    assert link.startswith("m-")
    shown = wait_until(lambda: _ctl(execution, "orders")["orders"] or None, timeout=30, what="the order shown")
    [order] = execution.orders()
    assert [o["orderLinkId"] for o in shown] == [order["orderLinkId"]] == [link]
    assert order["orderType"] == "Limit" and float(order["takeProfit"]) > p and float(order["stopLoss"]) < p
    assert _ctl(execution, "orders")["state"]["state"] == "NORMAL"


def test_no_exchange_configured_is_yellow_and_intents_are_rejected_with_the_reason(execution):
    for name in ("BYBIT_REST_URL", "BYBIT_WS_PUBLIC_URL", "BYBIT_WS_PRIVATE_URL"):
        execution.env.pop(name)
    execution.start()
    hb = wait_until(execution.heartbeat, timeout=30, what="a heartbeat")
    assert hb.status.value == "YELLOW" and "no exchange configured" in hb.reason
    i = execution.intent()
    rec = wait_until(lambda: execution.record(i.intent_id) if (r := execution.record(i.intent_id)) and
                     r["status"] == "rejected" else None, timeout=20, what="the intent rejected")
    assert "no exchange configured" in rec["reason"]


def test_a_crossing_post_only_falls_back_to_a_taker_and_the_intent_ends_filled(execution):
    execution.start().wait_state("NORMAL")
    p = execution.price()
    crossing = dict(order_type="Limit", price=f"{p * 1.01:.1f}", time_in_force="PostOnly",
                    take_profit=f"{p * 1.05:.1f}", stop_loss=f"{p * 0.95:.1f}", reference_price=f"{p:.1f}")
    i = execution.intent(post_only_fallback=True, **crossing)
    rec = wait_until(lambda: (r := execution.record(i.intent_id)) and r["status"] == "filled" and r, timeout=30,
                     what="the intent filled through its taker fallback")
    [maker] = execution.history(i.intent_id)
    assert (maker["orderStatus"], maker["rejectReason"]) == ("Cancelled", "EC_PostOnlyWillTakeLiquidity")
    [taker] = execution.history(i.intent_id + "-t")
    assert taker["orderStatus"] == "Filled" and taker["timeInForce"] == "IOC" and rec["order_id"] == taker["orderId"]
    [pos] = wait_until(lambda: execution.positions() or None, timeout=10, what="a position")
    assert float(pos["takeProfit"]) > p and 0 < float(pos["stopLoss"]) < p
    sums = wait_until(lambda: execution.r.hgetall(c.exec_quality_key("BTCUSDT")) or None, timeout=10,
                      what="quality sums")
    assert float(sums[b"first_fills"]) == 1 and float(sums[b"matched_qty"]) == float(i.qty)  # timed as one intent

    j = execution.intent(**crossing)  # no fallback asked: the crossed PostOnly is the end of it
    rec = wait_until(lambda: (r := execution.record(j.intent_id)) and r["status"] == "cancelled" and r,
                     timeout=30, what="the intent cancelled")
    assert rec["reason"] == "EC_PostOnlyWillTakeLiquidity" and execution.history(j.intent_id + "-t") == []


def _settled(execution, intent_id, *, ends=("acked", "filled")):
    return wait_until(lambda: (r := execution.record(intent_id)) and r["status"] in ends and r,
                      timeout=60, what=f"{intent_id} {' or '.join(ends)}")


@pytest.mark.parametrize("mode", ["5xx", "timeout"])
def test_ambiguous_submit_leaves_exactly_one_order(execution, mode):
    execution.env["EXEC_REST_TIMEOUT_S"] = "2"
    execution.start().wait_state("NORMAL")
    execution.faults(ambiguous_submit=mode)
    i = execution.intent(order_type="Limit", price=f"{execution.price() * 0.9:.1f}")
    rec = _settled(execution, i.intent_id)
    [order] = execution.history(i.intent_id)
    assert order["orderId"] == rec["order_id"] and order["orderStatus"] == "New"
    assert "submit_failed" in execution.log.read_text()  # it was ambiguous, and was looked up
    execution.faults(reset=True)
    # Nothing else happens for a second after the faults end: no late retry or second submit reaches
    # the exchange.
    time.sleep(1)
    assert len(execution.history(i.intent_id)) == 1


def test_unanswered_exchange_is_asked_until_it_proves_the_order_absent(execution):
    """A submit with no answer may have been placed: the intent is `unknown` (never `rejected`) until
    the order is proven absent (the realtime query, the stream, and the history after its lag), then it
    is sent again, once."""
    execution.env["EXEC_REST_TIMEOUT_S"] = "1"
    execution.start().wait_state("NORMAL")
    price = execution.price()
    execution.faults(rest_drop=True)
    i = execution.intent(order_type="Limit", price=f"{price * 0.9:.1f}")
    wait_until(lambda: execution.log.read_text().count("lookup_failed") >= 2, timeout=30,
               what="lookups that get no answer")
    assert execution.record(i.intent_id)["status"] == "sending"  # not resent blind, not given up
    execution.faults(rest_drop=False)
    statuses = set()
    wait_until(lambda: statuses.add(execution.record(i.intent_id)["status"]) or "acked" in statuses, timeout=60,
               interval=0.1, what="the intent acked once its absence was proven")
    assert "unknown" in statuses and "rejected" not in statuses
    assert len(execution.history(i.intent_id)) == 1


def test_a_reduce_only_market_exit_above_max_mkt_order_qty_goes_out_in_pieces(redis_url, tmp_path):
    """BTCUSDT listed with maxMktOrderQty 0.004: a 0.01 position (a Limit entry may exceed it) is closed
    by a reduce-only Market exit of 0.01, sent as 0.004 + 0.004 + 0.002, and the intent ends filled."""
    sim = start_sim("--admin-token", ADMIN_TOKEN, "--instruments", str(btc_max_mkt_listing(tmp_path)),
                    tmp_path=tmp_path)
    execution = Exec(redis_url=redis_url, sim=sim, tmp_path=tmp_path)
    try:
        execution.start().wait_state("NORMAL")
        p = execution.price()
        entry = execution.intent(qty="0.01", order_type="Limit", price=f"{p * 1.01:.1f}",
                                 take_profit=f"{p * 1.05:.1f}", stop_loss=f"{p * 0.95:.1f}")
        wait_until(lambda: (r := execution.record(entry.intent_id)) and r["status"] == "filled", timeout=30,
                   what="the entry filled")
        exit_ = execution.intent(side="Sell", qty="0.01", reduce_only=True)
        wait_until(lambda: (r := execution.record(exit_.intent_id)) and r["status"] == "filled", timeout=30,
                   what="the exit filled")
        wait_until(lambda: execution.positions() == [], timeout=20, what="the position closed")
        pieces = [o for link in (exit_.intent_id, f"{exit_.intent_id}_1", f"{exit_.intent_id}_2")
                  for o in execution.history(link)]
        assert sorted(o["qty"] for o in pieces) == ["0.002", "0.004", "0.004"]
        assert all(o["reduceOnly"] and o["orderStatus"] == "Filled" for o in pieces)
    finally:
        execution.close()
        sim.stop()


def test_a_burst_of_intents_goes_as_one_create_batch_each_order_settled_on_its_own(execution):
    """Intents published together (signals on several symbols at once) are recorded `sending` together
    and sent as one create-batch; each order is still its own: the one Bybit refuses (an orderLinkId
    over 36 characters) is rejected with its code, the others are acked, none is sent twice."""
    execution.start().wait_state("NORMAL")
    prices = {s: execution.price(s) for s in ("BTCUSDT", "ETHUSDT")}
    before = execution.sim_status()["requests"]
    links = ["burst-btc-1", "burst-eth-1", "burst-x" + "x" * 30, "burst-btc-2"]
    intents = [OrderIntent(intent_id=link, symbol=sym, side="Buy", qty=qty, order_type="Limit",
                           price=f"{prices[sym] * 0.9:.1f}", created_ts_ns=now_ns())
               for link, sym, qty in zip(links, ("BTCUSDT", "ETHUSDT", "BTCUSDT", "BTCUSDT"),
                                         ("0.01", "0.1", "0.01", "0.01"), strict=True)]
    with execution.r.pipeline(transaction=True) as pipe:  # one burst: the consumer wakes after the EXEC
        for i in intents:
            pipe.xadd(c.EXEC_INTENTS, {c.PAYLOAD_FIELD: encode(i)})
        pipe.execute()
    settled = {link: _settled(execution, link, ends=("acked", "filled", "rejected")) for link in links}
    assert settled[links[2]]["status"] == "rejected" and settled[links[2]]["reason"].startswith("10001"), settled
    for link in (links[0], links[1], links[3]):
        [order] = execution.history(link)
        assert settled[link]["status"] == "acked" and order["orderId"] == settled[link]["order_id"], settled
    after = execution.sim_status()["requests"]
    sent = {path: after.get(path, 0) - before.get(path, 0) for path in ("/v5/order/create", "/v5/order/create-batch")}
    assert sent == {"/v5/order/create": 0, "/v5/order/create-batch": 1}, sent
