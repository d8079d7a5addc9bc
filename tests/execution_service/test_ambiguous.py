"""Ambiguous submits (the simulator applies the order, then answers 502 or never): exactly one order."""

from __future__ import annotations

import time

import pytest

from tests.support import wait_until


def _settled(execution, intent_id):
    return wait_until(lambda: (r := execution.record(intent_id)) and r["status"] in ("acked", "filled") and r,
                      timeout=60, what=f"{intent_id} acknowledged")


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
    time.sleep(1)  # nothing else may arrive late
    assert len(execution.history(i.intent_id)) == 1


def test_unanswered_exchange_is_asked_until_it_proves_the_order_absent(execution):
    execution.env["EXEC_REST_TIMEOUT_S"] = "1"
    execution.start().wait_state("NORMAL")
    price = execution.price()
    execution.faults(rest_drop=True)
    i = execution.intent(order_type="Limit", price=f"{price * 0.9:.1f}")
    wait_until(lambda: execution.log.read_text().count("lookup_failed") >= 2, timeout=30,
               what="lookups that get no answer")
    assert execution.record(i.intent_id)["status"] == "sending"  # not resent blind, not given up
    execution.faults(rest_drop=False)
    _settled(execution, i.intent_id)
    assert len(execution.history(i.intent_id)) == 1
