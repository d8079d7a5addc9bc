"""The failover manager against real faults: SAFE within a bound, a CRIT alert, recovery, NORMAL."""

from __future__ import annotations

import json
import signal
import subprocess
import time

import pytest

from common import constants as c
from common.schemas import Alert, Heartbeat, Severity, Status, decode, encode, now_ns
from tests.support import VENV_BIN, wait_until

pytestmark = pytest.mark.service


def _alerts(execution) -> list[Alert]:
    return [decode(f[c.PAYLOAD_FIELD]) for _, f in execution.r.xrange(c.SYS_ALERTS)]


def _crit(execution, words: str) -> Alert:
    return wait_until(lambda: next((a for a in _alerts(execution) if a.severity is Severity.CRIT
                                    and words in a.title), None), timeout=20, what=f"a CRIT alert: {words}")


@pytest.mark.parametrize("fault", ["drop", "silent"])
def test_private_ws_lost_means_safe_then_resync(execution, fault):
    execution.start().wait_state("NORMAL")
    plans_before = execution.r.llen(c.EXEC_RECOVERY_KEY)
    t0 = time.monotonic()
    if fault == "drop":
        execution.faults(drop=["private"], ws_private_silent=True)  # and it stays away for a while
    else:
        execution.faults(ws_private_silent=True)
    safe = execution.wait_state("SAFE", timeout=20)
    assert time.monotonic() - t0 < 3 * 3 + 5  # EXEC_WS_SILENT_S=3: well within a few silence bounds
    assert "private WS" in safe["reason"]
    _crit(execution, "private WebSocket")
    i = execution.intent()  # an entry in SAFE is not sent
    wait_until(lambda: execution.record(i.intent_id), timeout=10, what="the entry recorded")
    time.sleep(1)  # nothing else happens for a second in SAFE: the entry stays queued, never sent
    assert execution.record(i.intent_id)["status"] == "queued" and execution.history(i.intent_id) == []
    execution.faults(ws_private_silent=False)
    execution.wait_state("NORMAL", timeout=60)
    plan = json.loads(execution.r.lindex(c.EXEC_RECOVERY_KEY, 0))
    assert execution.r.llen(c.EXEC_RECOVERY_KEY) > plans_before and plan["outcome"] == "ok"
    assert [s["name"] for s in plan["steps"]][:2] == ["freeze entries", "reconnect private WS"]
    assert all(s["outcome"] == "ok" and s["end_ns"] >= s["start_ns"] for s in plan["steps"])
    # the intent held during SAFE goes out once trading is allowed again
    wait_until(lambda: (r := execution.record(i.intent_id)) and r["status"] == "filled", timeout=30,
               what="the held intent filled after recovery")
    assert len(execution.history(i.intent_id)) == 1


@pytest.mark.parametrize("module", [c.STRATEGY, c.MARKET])
def test_module_heartbeat_stops_then_returns(execution, module):
    """Scenarios 3 and 5 at the service's level: the market's or the strategy's heartbeat stops."""
    execution.env["EXEC_REQUIRED_MODULES"] = module
    key = c.heartbeat_key(module)
    execution.r.set(key, b"alive", px=60_000)
    execution.start().wait_state("NORMAL")
    execution.r.delete(key)  # the strategy's heartbeat key expires: it stopped
    safe = execution.wait_state("SAFE", timeout=10)
    assert "MODULE_CRASH" in safe["reason"]
    _crit(execution, f"MODULE_CRASH: {module}")
    wait_until(lambda: (h := execution.heartbeat()) and h.status.value == "YELLOW" and "MODULE_CRASH" in h.reason,
               timeout=10, what="a YELLOW heartbeat with the reason")
    execution.r.set(key, b"alive", px=60_000)
    execution.wait_state("NORMAL", timeout=30)
    wait_until(lambda: (h := execution.heartbeat()) and h.status.value == "GREEN", timeout=10, what="GREEN again")


def test_a_refused_login_is_alerted_and_retried_with_the_server_clock(execution):
    """The exchange's clock jumps 60 s ahead and the private stream drops: the next login, signed with
    the clock REST measured at boot, is refused. It is alerted and retried with backoff on a clock
    measured again, and the stream comes back: never SAFE forever, never a silent give-up."""
    execution.start().wait_state("NORMAL")
    execution.faults(clock_skew_ms=60_000, drop=["private"])
    alert = _crit(execution, "login refused")
    assert execution.sim.ws_private in alert.detail
    execution.wait_state("NORMAL", timeout=60)
    assert execution.proc.poll() is None and execution.starts == 1
    plan = json.loads(execution.r.lindex(c.EXEC_RECOVERY_KEY, 0))
    assert plan["trigger"] == "private WS reconnected" and plan["outcome"] == "ok"


def _beat(module: str, *, pid: int, start_ts_ns: int) -> bytes:
    """A module's heartbeat in its TTL key, as the runner writes it (its boot_id left out: an older
    runner's heartbeat is told apart by pid and start time)."""
    return encode(Heartbeat(service=module, cluster="c", pid=pid, start_ts_ns=start_ts_ns, ts_ns=now_ns(),
                            version="1", status=Status.GREEN))


def _plan(execution, trigger: str) -> dict:
    """The recovery plan answering `trigger` (they name a pid or run_id: unique), once it ended ok."""
    def done() -> dict | None:
        plans = [json.loads(p) for p in execution.r.lrange(c.EXEC_RECOVERY_KEY, 0, -1)]
        return next((p for p in plans if trigger in p["trigger"] and p["outcome"] == "ok"), None)

    return wait_until(done, timeout=30, what=f"a recovery plan after: {trigger}")


@pytest.mark.parametrize("module", [c.STRATEGY, c.MARKET])
def test_a_module_restarted_before_its_heartbeat_expires_is_module_crash(execution, module):
    """A supervisor quicker than the heartbeat's TTL: the key never goes missing, its instance changes."""
    execution.env["EXEC_REQUIRED_MODULES"] = module
    key = c.heartbeat_key(module)
    execution.r.set(key, _beat(module, pid=101, start_ts_ns=1), px=60_000)
    execution.start().wait_state("NORMAL")
    execution.r.set(key, _beat(module, pid=202, start_ts_ns=2), px=60_000)  # the new process beats at once
    _crit(execution, f"MODULE_CRASH: {module} restarted (pid 101 -> 202)")
    _plan(execution, f"MODULE_CRASH: {module} restarted (pid 101 -> 202)")
    execution.wait_state("NORMAL", timeout=30)
    plans = execution.r.llen(c.EXEC_RECOVERY_KEY)
    execution.r.set(key, _beat(module, pid=202, start_ts_ns=2), px=60_000)  # the same instance beating on
    time.sleep(2)  # four guard polls: the same instance is no crash, no new plan
    assert execution.r.llen(c.EXEC_RECOVERY_KEY) == plans and execution.state()["state"] == "NORMAL"


def _filled(execution, intent_id: str) -> dict:
    return wait_until(lambda: (r := execution.record(intent_id)) and r["status"] == "filled" and r, timeout=30,
                      what=f"{intent_id} filled")


def test_operator_safe_mode_and_reconcile_from_the_cli(execution):
    execution.start().wait_state("NORMAL")
    p = execution.price()
    _filled(execution, execution.intent(take_profit=f"{p * 1.05:.1f}", stop_loss=f"{p * 0.95:.1f}").intent_id)
    ctl = str(VENV_BIN / "scalperctl")
    subprocess.run([ctl, "safe-mode", "on"], env=execution.env, check=True, capture_output=True, timeout=30)
    execution.wait_state("SAFE", timeout=10)
    i = execution.intent()
    # The record exists from "queued" on: wait for the outcome, not for the record.
    rec = wait_until(lambda: (r := execution.record(i.intent_id)) and r["status"] != "queued" and r, timeout=10,
                     what="the entry refused")
    assert rec["status"] == "rejected" and "safe mode" in rec["reason"]
    # an exit still goes in SAFE: reduce-only closes the position
    _filled(execution, execution.intent(side="Sell", reduce_only=True).intent_id)
    assert execution.positions() == [] and execution.state()["state"] == "SAFE"
    subprocess.run([ctl, "safe-mode", "off"], env=execution.env, check=True, capture_output=True, timeout=30)
    execution.wait_state("NORMAL", timeout=30)
    n = execution.r.llen(c.EXEC_RECOVERY_KEY)
    subprocess.run([ctl, "reconcile"], env=execution.env, check=True, capture_output=True, timeout=30)
    wait_until(lambda: execution.r.llen(c.EXEC_RECOVERY_KEY) > n and execution.state()["state"] == "NORMAL",
               timeout=30, what="a reconciliation run")
    out = subprocess.run([ctl, "recovery", "--last", "1"], env=execution.env, capture_output=True, text=True,
                         timeout=30)
    [plan] = json.loads(out.stdout)["plans"]
    assert plan["trigger"].startswith("operator reconcile") and plan["outcome"] == "ok"


def test_a_failed_recovery_keeps_safe_retries_with_backoff_and_keeps_the_history(execution):
    execution.env["EXEC_REST_TIMEOUT_S"] = "1"
    execution.faults(rest_drop=True)  # the exchange stops answering REST: the boot plan cannot finish
    execution.start()

    def plans() -> list[dict]:
        return [json.loads(p) for p in execution.r.lrange(c.EXEC_RECOVERY_KEY, 0, -1)]

    wait_until(lambda: sum(p["outcome"] == "failed" for p in plans()) >= 2, timeout=90,
               what="two failed recovery plans")
    state = execution.state()
    assert state["state"] in ("SAFE", "RECOVERING")
    failed = [p for p in plans() if p["outcome"] == "failed"]
    assert all(any(s["outcome"] == "failed" and s["detail"] for s in p["steps"]) for p in failed)
    execution.faults(rest_drop=False)
    execution.wait_state("NORMAL", timeout=60)
    history = plans()
    assert history[0]["outcome"] == "ok"
    assert {p["plan_id"] for p in failed} <= {p["plan_id"] for p in history}  # the failures are kept


@pytest.mark.parametrize("outage_s", [2.0, 0.0])
def test_redis_restarted_means_safe_and_a_recovery(own_redis, sim, tmp_path, outage_s):
    """Redis away for a while, or kill -9 and straight back as supervisord does it (the guard may never
    fail a poll): either way a new run_id, a CRIT alert, a recovery plan."""
    from tests.execution_service.conftest import Exec
    execution = Exec(redis_url=own_redis.url, sim=sim, tmp_path=tmp_path)
    try:
        execution.start().wait_state("NORMAL")
        run_id = execution.r.info("server")["run_id"]
        own_redis.stop(signal.SIGKILL)
        time.sleep(outage_s)  # the outage itself: nothing to poll while Redis is away
        own_redis.start()
        plan = _plan(execution, f"Redis restarted (run_id {run_id} -> ")
        assert execution.r.info("server")["run_id"] in plan["trigger"]
        _crit(execution, "Redis restarted")
        execution.wait_state("NORMAL", timeout=30)
    finally:
        execution.close()


def test_stale_market_data_means_safe_until_fresh(execution):
    execution.env["EXEC_REQUIRED_MODULES"] = "market"
    execution.r.set(c.heartbeat_key(c.MARKET), b"alive", px=120_000)
    row = {"symbol": "BTCUSDT", "stale": ""}
    execution.r.hset(c.MARKET_SUMMARY_KEY, "BTCUSDT", json.dumps(row))
    execution.start().wait_state("NORMAL")
    execution.r.hset(c.MARKET_SUMMARY_KEY, "BTCUSDT", json.dumps({**row, "stale": "sequence gap"}))
    safe = execution.wait_state("SAFE", timeout=30)
    assert safe["reason"] == "stale market data: BTCUSDT"
    _crit(execution, "stale market data")
    execution.r.hset(c.MARKET_SUMMARY_KEY, "BTCUSDT", json.dumps(row))
    execution.wait_state("NORMAL", timeout=30)
