"""The strategy service as a real process on a real Redis: market in -> signals and intents out,
no second entry after a restart, the kill switch and the risk snapshot across restarts, and a
profile hot reload at the next bar."""

from __future__ import annotations

import json
import signal

import pytest

from common import constants as c
from common.schemas import Alert, Command, FillEvent, OrderIntent, PositionEvent, Signal, encode, now_ns
from tests.strategy_service.live import control, heartbeat, now_s_ms, publish, read
from tests.strategy_service.market import MS, path
from tests.execution_service.conftest import ADMIN_TOKEN, Exec
from tests.support import start_sim, wait_until

pytestmark = pytest.mark.service


def round_trip(t_ns: int, tag: str, *, buy: str, sell: str, qty: str = "100", fee: str = "0",
               link: str = "manual") -> list[FillEvent | PositionEvent]:
    """Execution's events for a long opened at `buy` and closed at `sell` (the entry's orderLinkId `link`)."""

    def fill(side: str, price: str, n: int) -> FillEvent:
        return FillEvent(exec_id=f"{tag}{n}", order_link_id=link if n == 0 else "manual",
                         order_id=f"{tag}o{n}", symbol="BTCUSDT", side=side, price=price, qty=qty, fee=fee,
                         is_maker=False, exchange_ts_ns=t_ns + n, ts_ns=t_ns + n)

    return [fill("Buy", buy, 0), PositionEvent(symbol="BTCUSDT", side="Buy", size=qty, ts_ns=t_ns + 1),
            fill("Sell", sell, 2), PositionEvent(symbol="BTCUSDT", side="", size="0", ts_ns=t_ns + 3)]


def kill_alerts(r) -> list[Alert]:
    return [a for a in read(r, c.SYS_ALERTS, Alert) if a.key == c.STRATEGY_KILL_SWITCH_ALERT]


def restart(strategy, proc, *, sig: signal.Signals = signal.SIGTERM):
    """Stop the service with `sig`, start it again; the new process's first heartbeat (after its restore)."""
    start, r = strategy
    proc.send_signal(sig)
    proc.wait(timeout=20)
    new = start()
    return new, wait_until(lambda: (h := heartbeat(r)) and h.pid == new.pid and h, timeout=15,
                           what="the restarted service's heartbeat")


def test_market_in_signals_and_one_intent_out_even_across_a_restart(strategy):
    start, r = strategy
    proc = start()
    t0 = now_s_ms()
    msgs = path("BTCUSDT", start_ms=t0)
    publish(r, msgs)
    [intent] = read(r, c.EXEC_INTENTS, OrderIntent)
    assert intent.intent_id == f"s-BTCUSDT-e-{t0 + 42_000}" and intent.side == "Buy" and not intent.reduce_only
    assert intent.take_profit and intent.stop_loss and float(intent.qty) > 0 and intent.published_ts_ns > 0
    signals = read(r, c.STRATEGY_SIGNALS, Signal)
    assert [s.state for s in signals[:2]] == ["WATCHING", "ARMED"]
    assert signals[0].reasons and signals[0].components["momentum"] > 0 and signals[0].published_ts_ns > 0
    hb = wait_until(lambda: heartbeat(r), timeout=10, what="a heartbeat")
    assert (hb.details["profile"], hb.details["profile_version"]) == ("balanced", "2")

    proc.kill()  # a crash: nothing is saved on the way out, the state comes back from Redis alone
    proc.wait(timeout=10)
    start()
    publish(r, msgs)  # the same setup seen again after the restart
    assert len(read(r, c.EXEC_INTENTS, OrderIntent)) == 1


def test_a_kill_switch_trip_alerts_and_stops_entries(strategy):
    start, r = strategy
    start()
    t0 = now_s_ms()
    publish(r, path("BTCUSDT", start_ms=t0))
    [entry] = read(r, c.EXEC_INTENTS, OrderIntent)
    # bought 100 at 100.30, sold at 96.00: -430 USDT = 4.3 % of 10 000, beyond the 3 % daily limit
    publish(r, round_trip((t0 + 43_000) * MS, "x", buy="100.30", sell="96.00", link=entry.intent_id),
            stream=c.EXEC_EVENTS)
    alert = wait_until(lambda: kill_alerts(r), timeout=10, what="the kill-switch alert")[0]
    assert alert.severity == "CRIT" and "daily loss 4.30 %" in alert.detail
    hb = wait_until(lambda: (h := heartbeat(r)) and h.status == "YELLOW" and h, timeout=10, what="YELLOW")
    assert hb.details["kill_switch"].startswith("daily loss")

    publish(r, path("ETHUSDT", start_ms=t0 + 60_000, base=2000.0))
    assert [i.symbol for i in read(r, c.EXEC_INTENTS, OrderIntent)] == ["BTCUSDT"]
    eth = [s for s in read(r, c.STRATEGY_SIGNALS, Signal) if s.symbol == "ETHUSDT"]
    assert any("entry blocked: kill switch" in reason for s in eth for reason in s.reasons)


def test_a_profile_hot_reload_changes_behaviour_at_the_next_message(strategy, tmp_path):
    start, r = strategy
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    strict = '[scoring]\nwatch_score = 5.0\nentry_score = 6.0\n'
    (profiles / "balanced.toml").write_text(f'name = "balanced"\nversion = 3\n{strict}')
    start()
    wait_until(lambda: (h := heartbeat(r)) and h.details.get("profile_version") == "3", timeout=10,
               what="balanced v3 in the heartbeat")
    t0 = now_s_ms()
    publish(r, path("BTCUSDT", start_ms=t0))
    assert read(r, c.EXEC_INTENTS, OrderIntent) == []  # too strict to enter

    (profiles / "balanced.toml").write_text('name = "balanced"\nversion = 4\n[risk]\nmax_open_positions = 0\n')
    control(r, Command.RELOAD_CONFIG)  # an invalid file is refused with a WARN and v3 stays
    wait_until(lambda: any(a.key == c.STRATEGY_PROFILE_ALERT for a in read(r, c.SYS_ALERTS, Alert)), timeout=10,
               what="the profile-rejected alert")
    assert heartbeat(r).details["profile_version"] == "3"

    control(r, Command.SET_PROFILE, profile="aggressive")
    wait_until(lambda: (h := heartbeat(r)) and h.details.get("profile") == "aggressive", timeout=10,
               what="aggressive in the heartbeat")
    assert r.get("scalper:strategy:profile") == b"aggressive"
    publish(r, path("ETHUSDT", start_ms=t0 + 60_000, base=2000.0))
    [intent] = read(r, c.EXEC_INTENTS, OrderIntent)
    assert intent.symbol == "ETHUSDT"
    assert {s.profile for s in read(r, c.STRATEGY_SIGNALS, Signal) if s.symbol == "ETHUSDT"} == {"aggressive"}


def test_safe_mode_holds_entries_and_releasing_it_lets_the_next_setup_in(strategy):
    start, r = strategy
    start()
    control(r, Command.SAFE_MODE_ON)
    wait_until(lambda: (h := heartbeat(r)) and h.safe_mode, timeout=10, what="safe mode in the heartbeat")
    t0 = now_s_ms()
    publish(r, path("BTCUSDT", start_ms=t0))
    assert read(r, c.EXEC_INTENTS, OrderIntent) == []
    assert any("entry blocked: safe mode" in reason for s in read(r, c.STRATEGY_SIGNALS, Signal) for reason in s.reasons)
    control(r, Command.SAFE_MODE_OFF)
    wait_until(lambda: (h := heartbeat(r)) and not h.safe_mode, timeout=10, what="safe mode off")
    publish(r, path("ETHUSDT", start_ms=t0 + 60_000, base=2000.0))
    assert [i.symbol for i in read(r, c.EXEC_INTENTS, OrderIntent)] == ["ETHUSDT"]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "kill-9"])
def test_a_tripped_kill_switch_stays_tripped_across_a_restart_without_a_second_alert(strategy, sig):
    start, r = strategy
    proc = start()
    publish(r, round_trip(now_ns(), "k", buy="100.30", sell="96.00"), stream=c.EXEC_EVENTS)
    wait_until(lambda: kill_alerts(r), timeout=10, what="the kill-switch alert")

    _, hb = restart(strategy, proc, sig=sig)
    assert hb.details["kill_switch"].startswith("daily loss 4.30 %")
    assert hb.details["equity_usdt"] == "9570.00"
    assert len(kill_alerts(r)) == 1


def test_an_operator_reset_of_the_kill_switch_survives_a_crash(strategy):
    start, r = strategy
    proc = start()
    publish(r, round_trip(now_ns(), "k", buy="100.30", sell="96.00"), stream=c.EXEC_EVENTS)
    wait_until(lambda: kill_alerts(r), timeout=10, what="the kill-switch alert")
    sent = now_ns()  # a heartbeat from before the trip says "off" too: only a newer one shows the reset
    control(r, Command.SET_PROFILE, profile="balanced", reset_kill_switch="true")
    wait_until(lambda: (h := heartbeat(r)) and h.ts_ns > sent and h.details["kill_switch"] == "off", timeout=10,
               what="the reset")

    _, hb = restart(strategy, proc, sig=signal.SIGKILL)
    assert (hb.details["kill_switch"], hb.details["equity_usdt"]) == ("off", "9570.00")
    assert len(kill_alerts(r)) == 1
    publish(r, path("BTCUSDT", start_ms=now_s_ms()))  # and entries open again
    assert len(read(r, c.EXEC_INTENTS, OrderIntent)) == 1


def test_a_snapshot_and_the_events_after_it_give_the_equity_of_a_full_replay(strategy):
    start, r = strategy
    proc = start()
    t = now_ns()
    publish(r, round_trip(t, "a", buy="100.00", sell="101.00", qty="10", fee="0.5"), stream=c.EXEC_EVENTS)  # +9
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=20)
    for m in round_trip(t + 10 * MS, "b", buy="100.00", sell="99.50", qty="10", fee="0.5"):  # -6, while down
        r.xadd(c.EXEC_EVENTS, {c.PAYLOAD_FIELD: encode(m)})

    proc = start()
    hb = wait_until(lambda: (h := heartbeat(r)) and h.pid == proc.pid and h, timeout=15, what="a heartbeat")
    assert hb.details["equity_usdt"] == "10003.00"  # the snapshot (+9) and the events after it (-6)

    r.delete(c.STRATEGY_RISK_KEY)
    proc, hb = restart(strategy, proc)
    assert hb.details["equity_usdt"] == "10003.00"  # every event replayed, no snapshot

    r.xtrim(c.EXEC_EVENTS, maxlen=2)
    _, hb = restart(strategy, proc)
    assert hb.details["equity_usdt"] == "10003.00"  # the stream no longer holds what the equity came from


def test_a_profile_switch_mid_stream_signs_the_very_next_bar(strategy):
    start, r = strategy
    start()
    t0 = now_s_ms()
    msgs = path("BTCUSDT", start_ms=t0)
    switch_ms = t0 + 44_000
    publish(r, [m for m in msgs if m.exchange_ts_ns < switch_ms * MS])  # closes bars up to t0 + 43 s
    control(r, Command.SET_PROFILE, profile="aggressive")
    wait_until(lambda: (h := heartbeat(r)) and h.details.get("profile") == "aggressive", timeout=10,
               what="aggressive in the heartbeat")
    publish(r, [m for m in msgs if m.exchange_ts_ns >= switch_ms * MS])
    signs = {s.signal_id: (s.profile, s.profile_version) for s in read(r, c.STRATEGY_SIGNALS, Signal)}
    assert signs[f"BTCUSDT-{switch_ms - 1000}"] == ("balanced", 2)
    assert signs[f"BTCUSDT-{switch_ms}"] == ("aggressive", 2)


def test_no_entry_is_armed_while_execution_is_safe(strategy):
    start, r = strategy
    start()
    r.set(c.EXEC_STATE_KEY, json.dumps({"state": "SAFE", "reason": "private WS lost", "holds": {}, "ts_ns": now_ns()}))
    wait_until(lambda: (h := heartbeat(r)) and h.details.get("execution_hold", "").startswith("execution SAFE"),
               timeout=10, what="execution's SAFE seen by the strategy")
    t0 = now_s_ms()
    publish(r, path("BTCUSDT", start_ms=t0))
    assert read(r, c.EXEC_INTENTS, OrderIntent) == []
    assert any("entry blocked: execution SAFE: private WS lost" in reason
               for s in read(r, c.STRATEGY_SIGNALS, Signal) for reason in s.reasons)

    r.set(c.EXEC_STATE_KEY, json.dumps({"state": "NORMAL", "reason": "", "holds": {}, "ts_ns": now_ns()}))
    wait_until(lambda: (h := heartbeat(r)) and h.details.get("execution_hold") == "none", timeout=10,
               what="execution NORMAL seen by the strategy")
    publish(r, path("ETHUSDT", start_ms=t0 + 60_000, base=2000.0))
    assert [i.symbol for i in read(r, c.EXEC_INTENTS, OrderIntent)] == ["ETHUSDT"]


def test_paused_entries_on_a_symbol_let_the_other_symbols_and_the_end_of_the_pause_in(strategy):
    start, r = strategy
    start()
    control(r, Command.PAUSE_ENTRIES, symbols="BTCUSDT", for_s="600", why="scenario rapid-fire")
    wait_until(lambda: (h := heartbeat(r)) and h.details.get("entries_paused") == "BTCUSDT", timeout=10,
               what="the pause in the heartbeat")
    t0 = now_s_ms()
    publish(r, path("BTCUSDT", start_ms=t0))
    publish(r, path("ETHUSDT", start_ms=t0, base=2000.0))
    assert [i.symbol for i in read(r, c.EXEC_INTENTS, OrderIntent)] == ["ETHUSDT"]
    assert any("entry blocked: entries paused by test: scenario rapid-fire" in reason
               for s in read(r, c.STRATEGY_SIGNALS, Signal) if s.symbol == "BTCUSDT" for reason in s.reasons)

    control(r, Command.PAUSE_ENTRIES, symbols="BTCUSDT", for_s="0")
    wait_until(lambda: (h := heartbeat(r)) and h.details.get("entries_paused") == "none", timeout=10,
               what="the pause lifted")
    publish(r, path("BTCUSDT", start_ms=t0 + 60_000))
    assert [i.symbol for i in read(r, c.EXEC_INTENTS, OrderIntent)] == ["ETHUSDT", "BTCUSDT"]


def test_a_pause_lapses_by_itself(strategy):
    start, r = strategy
    start()
    control(r, Command.PAUSE_ENTRIES, symbols="BTCUSDT,ETHUSDT", for_s="1")
    wait_until(lambda: (h := heartbeat(r)) and h.details.get("entries_paused") == "BTCUSDT,ETHUSDT", timeout=10,
               what="the pause in the heartbeat")
    wait_until(lambda: (h := heartbeat(r)) and h.details.get("entries_paused") == "none", timeout=10,
               what="the pause lapsed")
    publish(r, path("BTCUSDT", start_ms=now_s_ms()))
    assert [i.symbol for i in read(r, c.EXEC_INTENTS, OrderIntent)] == ["BTCUSDT"]


def _ledgers(r) -> dict:
    return json.loads(r.get(c.STRATEGY_RISK_KEY))["ledgers"]


def _exits(r, symbol: str) -> list[OrderIntent]:
    return [i for i in read(r, c.EXEC_INTENTS, OrderIntent) if i.symbol == symbol and i.reduce_only]


def test_the_strategy_ledger_converges_to_the_exchange_and_a_refused_exit_is_not_resent(strategy, redis_url,
                                                                                        tmp_path):
    """The issue's case: the strategy's ledger holds BTCUSDT long 0.164 and ETHUSDT short 3.55 while the
    exchange holds no BTCUSDT and ETHUSDT short 0.12 (built by a strategy order); then the operator opens a
    BTCUSDT position by hand, which the strategy leaves alone."""
    start, r = strategy
    sim = start_sim("--admin-token", ADMIN_TOKEN, tmp_path=tmp_path)
    execution = Exec(redis_url=redis_url, sim=sim, tmp_path=tmp_path)
    try:
        execution.start().wait_state("NORMAL")
        start()
        execution.post("/v5/order/create", {"symbol": "ETHUSDT", "side": "Sell", "orderType": "Market",
                                            "qty": "0.12", "orderLinkId": "s-ETHUSDT-e-1"})
        wait_until(lambda: (r.get(c.STRATEGY_RISK_KEY) and _ledgers(r).get("ETHUSDT", [0])[0] == -0.12) or None,
                   timeout=20, what="the strategy's ledger at the exchange's ETHUSDT short")
        t = now_ns()
        stale = [FillEvent(exec_id="old-btc", order_link_id="s-BTCUSDT-e-0", order_id="o1", symbol="BTCUSDT",
                           side="Buy", price="100.00", qty="0.164", fee="0", is_maker=False, exchange_ts_ns=t,
                           ts_ns=t),
                 PositionEvent(symbol="BTCUSDT", side="Buy", size="0.164", entry_price="100.00", ts_ns=t + 1),
                 FillEvent(exec_id="old-eth", order_link_id="s-ETHUSDT-e-0", order_id="o2", symbol="ETHUSDT",
                           side="Sell", price="3200.00", qty="3.43", fee="0", is_maker=False, exchange_ts_ns=t + 2,
                           ts_ns=t + 2),
                 PositionEvent(symbol="ETHUSDT", side="Sell", size="3.55", entry_price="3200.00", ts_ns=t + 3)]
        publish(r, stale, stream=c.EXEC_EVENTS)
        assert (_ledgers(r)["BTCUSDT"][0], _ledgers(r)["ETHUSDT"][0]) == (0.164, -3.55)

        publish(r, path("BTCUSDT", start_ms=now_s_ms(), step_bps=-12.0, pump_s=20))  # falling: it wants out
        [exit_] = _exits(r, "BTCUSDT")  # refused (110017: the exchange holds none) once, never re-sent
        assert "110017" in execution.record(exit_.intent_id)["reason"]
        assert "BTCUSDT" not in _ledgers(r)

        manual = execution.intent(source="manual")  # the operator's BTCUSDT long: not the strategy's
        wait_until(lambda: (x := execution.record(manual.intent_id)) and x["status"] == "filled", timeout=30,
                   what="the manual order filled")
        publish(r, path("BTCUSDT", start_ms=now_s_ms() + 60_000, step_bps=-12.0, pump_s=20))
        assert len(_exits(r, "BTCUSDT")) == 1  # the strategy leaves the operator's position alone

        n = execution.r.llen(c.EXEC_RECOVERY_KEY)
        control(r, Command.RECONCILE, target="execution")
        wait_until(lambda: execution.r.llen(c.EXEC_RECOVERY_KEY) > n and execution.state()["state"] == "NORMAL",
                   timeout=60, what="a reconciliation")
        # the reconciliation's view: the strategy's ETHUSDT short 0.12, and the operator's BTCUSDT (which the
        # manual fill had put in the ledger) not the strategy's
        wait_until(lambda: (led := _ledgers(r)) and led.get("ETHUSDT", [0])[0] == -0.12 and "BTCUSDT" not in led,
                   timeout=10, what="the strategy's ledger at the exchange's view")
        assert sorted(p["symbol"] for p in execution.positions()) == ["BTCUSDT", "ETHUSDT"]
    finally:
        execution.close()
        sim.stop()
