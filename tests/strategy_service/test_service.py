"""The strategy service as a real process on a real Redis: market in -> signals and intents out,
no second entry after a restart, the kill switch, and a profile hot reload."""

from __future__ import annotations

import itertools
import signal
import subprocess
import time
import uuid

import pytest

from common import constants as c
from common.schemas import (Alert, Command, ControlCommand, FillEvent, Heartbeat, OrderIntent, PositionEvent,
                            Signal, Trade, decode, encode, now_ns)
from tests.strategy_service.market import MS, path
from tests.support import service_env, start_service, wait_until

GROUP = b"strategy"


@pytest.fixture
def strategy(redis_url, redis_server, tmp_path):
    """Start (and restart) the service; yields (start, redis client); stops it at the end."""
    procs = []
    env = service_env(redis_url, DATA_DIR=str(tmp_path))
    r = redis_server.client()

    def start():
        procs.append(start_service("strategy", env, tmp_path / "strategy.log"))
        wait_until(lambda: _groups_ready(r), timeout=30, interval=0.1, what="strategy consumer groups")
        return procs[-1]

    yield start, r
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(timeout=10)
    r.close()


def _groups_ready(r) -> bool:
    for stream in (c.MARKET_TRADES, c.MARKET_BOOK, c.EXEC_EVENTS, c.SYS_CONTROL):
        if not r.exists(stream) or GROUP not in {g["name"] for g in r.xinfo_groups(stream)}:
            return False
    return True


def _drained(r, stream: str) -> bool:
    g = next(g for g in r.xinfo_groups(stream) if g["name"] == GROUP)
    return g["lag"] == 0 and g["pending"] == 0


def publish(r, messages, *, stream: str | None = None) -> None:
    """Publish one bar at a time and wait until the service has handled it, as a live feed paces it."""
    for _, bar in itertools.groupby(messages, key=lambda m: _ts_ms(m) // 1000):
        streams = set()
        for m in bar:
            s = stream or (c.MARKET_TRADES if isinstance(m, Trade) else c.MARKET_BOOK)
            r.xadd(s, {c.PAYLOAD_FIELD: encode(m)})
            streams.add(s)
        wait_until(lambda streams=streams: all(_drained(r, s) for s in streams), timeout=20, what=f"handled {streams}")


def _ts_ms(m) -> int:
    return getattr(m, "exchange_ts_ns", 0) // MS or m.ts_ns // MS


def read(r, stream: str, kind):
    return [m for m in (decode(f[c.PAYLOAD_FIELD]) for _, f in r.xrange(stream)) if isinstance(m, kind)]


def heartbeat(r) -> Heartbeat | None:
    raw = r.get(c.heartbeat_key("strategy"))
    return decode(raw) if raw else None


def control(r, command: Command, **args: str) -> None:
    cmd = ControlCommand(command_id=uuid.uuid4().hex, command=command, target="strategy", args=args,
                         issued_by="test", ts_ns=now_ns())
    r.xadd(c.SYS_CONTROL, {c.PAYLOAD_FIELD: encode(cmd)})


def now_s_ms() -> int:
    return int(time.time()) * 1000  # whole seconds, so bar times are easy to name


def test_market_in_signals_and_one_intent_out_even_across_a_restart(strategy):
    start, r = strategy
    proc = start()
    t0 = now_s_ms()
    msgs = path("BTCUSDT", start_ms=t0)
    publish(r, msgs)
    [intent] = read(r, c.EXEC_INTENTS, OrderIntent)
    assert intent.intent_id == f"s-BTCUSDT-e-{t0 + 42_000}" and intent.side == "Buy" and not intent.reduce_only
    assert intent.take_profit and intent.stop_loss and float(intent.qty) > 0
    signals = read(r, c.STRATEGY_SIGNALS, Signal)
    assert [s.state for s in signals[:2]] == ["WATCHING", "ARMED"]
    assert signals[0].reasons and signals[0].components["momentum"] > 0 and signals[0].published_ts_ns > 0
    hb = wait_until(lambda: heartbeat(r), timeout=10, what="a heartbeat")
    assert (hb.details["profile"], hb.details["profile_version"]) == ("balanced", "1")

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
    t = (t0 + 43_000) * MS

    def fill(side: str, price: str, n: int) -> FillEvent:
        return FillEvent(exec_id=f"x{n}", order_link_id=entry.intent_id if n == 0 else "manual", order_id=f"o{n}",
                         symbol="BTCUSDT", side=side, price=price, qty="100", fee="0", is_maker=False,
                         exchange_ts_ns=t + n, ts_ns=t + n)

    # bought 100 at 100.30, sold at 96.00: -430 USDT = 4.3 % of 10 000, beyond the 3 % daily limit
    publish(r, [fill("Buy", "100.30", 0), PositionEvent(symbol="BTCUSDT", side="Buy", size="100", ts_ns=t + 1),
                fill("Sell", "96.00", 2), PositionEvent(symbol="BTCUSDT", side="", size="0", ts_ns=t + 3)],
            stream=c.EXEC_EVENTS)
    alert = wait_until(lambda: [a for a in read(r, c.SYS_ALERTS, Alert) if a.key == "strategy:kill_switch"],
                       timeout=10, what="the kill-switch alert")[0]
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
    wait_until(lambda: any(a.key == "strategy:profile" for a in read(r, c.SYS_ALERTS, Alert)), timeout=10,
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
