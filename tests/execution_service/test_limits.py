"""Execution's hard limits hold for every entry, manual ones and ones released by NORMAL included, against
the exchange's own positions and wallet; reduce-only orders always pass; each refusal names its limit
in the intent's record and in an alert."""

from __future__ import annotations

import pytest

from common import constants as c
from common.schemas import Alert, OrderIntent, decode, encode, now_ns
from tests.support import wait_until

pytestmark = pytest.mark.service

FINAL = ("filled", "rejected", "cancelled")


def _final(execution, intent_id: str) -> dict:
    return wait_until(lambda: (r := execution.record(intent_id)) and r["status"] in FINAL and r, timeout=60,
                      what=f"{intent_id} settled")


def _refused_by(execution, intent_id: str, limit: str) -> dict:
    rec = _final(execution, intent_id)
    assert rec["status"] == "rejected" and f"limit {limit}:" in rec["reason"], rec
    return rec


def _alerts(execution) -> list[Alert]:
    return [m for m in (decode(f[c.PAYLOAD_FIELD]) for _, f in execution.r.xrange(c.SYS_ALERTS))
            if isinstance(m, Alert)]


def _size(execution, symbol: str) -> float:
    return sum(float(p["size"]) for p in execution.positions() if p["symbol"] == symbol)


def test_manual_entries_meet_every_limit_and_reduce_only_still_goes(execution, sim):
    p = execution.price()
    execution.env.update(EXEC_MAX_OPEN_POSITIONS="1", EXEC_MAX_ORDER_NOTIONAL_USDT=f"{p * 0.031:.0f}",
                         EXEC_MAX_SYMBOL_EXPOSURE_USDT=f"{p * 0.035:.0f}", EXEC_MAX_DRIFT_BPS="50",
                         EXEC_ENTRY_DEADLINE_S="5")
    execution.start().wait_state("NORMAL")
    opened = execution.intent(source="manual")
    assert _final(execution, opened.intent_id)["status"] == "filled"

    refused = {
        "EXEC_MAX_OPEN_POSITIONS": execution.intent("ETHUSDT", qty="0.1", source="manual"),
        "EXEC_MAX_ORDER_NOTIONAL_USDT": execution.intent(qty="0.04", source="manual"),
        "EXEC_MAX_SYMBOL_EXPOSURE_USDT": execution.intent(qty="0.03", source="manual"),
        "EXEC_MAX_DRIFT_BPS": execution.intent(reference_price=f"{p * 1.02:.1f}"),
    }
    late = OrderIntent(intent_id="s-BTCUSDT-e-late", symbol="BTCUSDT", side="Buy", qty="0.01",
                       created_ts_ns=now_ns() - 8_000_000_000)  # 8 s old, well inside the 120 s TTL
    execution.r.xadd(c.EXEC_INTENTS, {c.PAYLOAD_FIELD: encode(late)})
    refused["EXEC_ENTRY_DEADLINE_S"] = late
    for limit, intent in refused.items():
        _refused_by(execution, intent.intent_id, limit)
        assert execution.history(intent.intent_id) == []  # never reached the exchange
    keys = {a.key for a in _alerts(execution)}
    assert {c.exec_limit_alert_key(limit.lower()) for limit in refused} <= keys

    close = execution.intent(side="Sell", qty="0.01", reduce_only=True, source="manual")
    assert _final(execution, close.intent_id)["status"] == "filled"
    assert wait_until(lambda: _size(execution, "BTCUSDT") == 0 or None, timeout=10, what="flat")


def test_entries_queued_in_safe_go_out_within_the_limits_when_normal_returns(execution):
    p = execution.price()
    execution.env.update(EXEC_MAX_OPEN_POSITIONS="1", EXEC_MAX_SYMBOL_EXPOSURE_USDT=f"{p * 0.025:.0f}",
                         EXEC_ENTRY_DEADLINE_S="60")
    execution.start().wait_state("NORMAL")
    execution.faults(ws_private_silent=True)
    execution.wait_state("SAFE", timeout=20)
    queued = [execution.intent("BTCUSDT", qty="0.01", source="manual") for _ in range(6)]
    queued += [execution.intent("ETHUSDT", qty="0.1", source="manual") for _ in range(3)]
    wait_until(lambda: all(execution.record(i.intent_id) for i in queued), timeout=10, what="all recorded")
    execution.faults(ws_private_silent=False)
    execution.wait_state("NORMAL", timeout=60)

    recs = {i.intent_id: _final(execution, i.intent_id) for i in queued}
    filled = [i for i in queued if recs[i.intent_id]["status"] == "filled"]
    assert len(filled) == 2 and {i.symbol for i in filled} == {"BTCUSDT"}, recs
    for i in queued:
        if i not in filled:
            assert recs[i.intent_id]["reason"].startswith(("limit EXEC_MAX_SYMBOL_EXPOSURE_USDT",
                                                           "limit EXEC_MAX_OPEN_POSITIONS")), recs[i.intent_id]
    assert wait_until(lambda: _size(execution, "BTCUSDT") == 0.02 or None, timeout=10, what="0.02 BTC held")
    assert _size(execution, "ETHUSDT") == 0


def test_entries_that_waited_out_safe_past_the_deadline_are_refused(execution):
    execution.env.update(EXEC_ENTRY_DEADLINE_S="3")
    execution.start().wait_state("NORMAL")
    execution.faults(ws_private_silent=True)
    execution.wait_state("SAFE", timeout=20)
    waiting = [execution.intent(source="manual"), execution.intent("ETHUSDT", qty="0.1")]
    # SAFE lasts past the deadline: 4 s after the entries were made, the stream comes back
    wait_until(lambda: (now_ns() - waiting[-1].created_ts_ns) / 1e9 > 4, timeout=10, what="4 s in SAFE")
    execution.faults(ws_private_silent=False)
    execution.wait_state("NORMAL", timeout=60)
    for i in waiting:
        _refused_by(execution, i.intent_id, "EXEC_ENTRY_DEADLINE_S")
        assert execution.history(i.intent_id) == []


def test_the_daily_loss_on_the_wallet_stops_entries_and_reduce_only_still_goes(execution):
    execution.env.update(EXEC_DAILY_LOSS_LIMIT_PCT="0.01")  # 10 USDT of the simulator's 100 000
    execution.start().wait_state("NORMAL")
    assert _final(execution, execution.intent(source="manual").intent_id)["status"] == "filled"
    for side in ("Buy", "Sell"):  # a round trip made on the exchange directly: fees and spread are lost
        execution.post("/v5/order/create", {"symbol": "ETHUSDT", "side": side, "orderType": "Market",
                                            "qty": "10", "orderLinkId": f"web-{side}"})
    kill = wait_until(lambda: [a for a in _alerts(execution) if a.key == c.EXEC_KILL_SWITCH_ALERT], timeout=20,
                      what="the kill-switch alert")[0]
    assert kill.severity == "CRIT" and "EXEC_DAILY_LOSS_LIMIT_PCT" in kill.detail
    _refused_by(execution, execution.intent(source="manual").intent_id, "EXEC_DAILY_LOSS_LIMIT_PCT")

    execution.stop()  # the kill holds across a restart
    execution.start().wait_state("NORMAL")
    _refused_by(execution, execution.intent("ETHUSDT", qty="0.1").intent_id, "EXEC_DAILY_LOSS_LIMIT_PCT")
    close = execution.intent(side="Sell", qty="0.01", reduce_only=True, source="manual")
    assert _final(execution, close.intent_id)["status"] == "filled"
