"""The pure engine end to end: market messages in -> explainable signals and intents out."""

import msgspec
import pytest

from common.schemas import FillEvent, OrderEvent, OrderIntent, PositionEvent, Signal, encode
from strategy_service import profile
from strategy_service.engine import MAX_EXIT_REFUSALS, Engine
from strategy_service.execution_view import Held
from strategy_service.machine import State
from tests.strategy_service.market import MS, book, feed, path, trade

pytestmark = pytest.mark.unit

BAL = profile.load("balanced")
T0 = 1_700_000_000_000
ENTRY_BAR = T0 + 42_000  # the second bar of the rise closes the WATCHING -> ARMED step


def intents(out) -> list[OrderIntent]:
    return [o for o in out if isinstance(o, OrderIntent)]


def fill(intent: OrderIntent, *, price: str, ts_ms: int, n: int = 0, fee: str = "0.5", qty: str | None = None):
    return FillEvent(exec_id=f"{intent.intent_id}-{n}", order_link_id=intent.intent_id, order_id="o",
                     symbol=intent.symbol, side=intent.side, price=price, qty=qty or intent.qty, fee=fee,
                     is_maker=False, exchange_ts_ns=ts_ms * MS, ts_ns=ts_ms * MS)


def position(symbol: str, *, size: str, price: str, ts_ms: int, side: str = "Buy") -> PositionEvent:
    return PositionEvent(symbol=symbol, side=side if size != "0" else "", size=size, entry_price=price,
                         ts_ns=ts_ms * MS)


def test_a_rise_on_heavy_buying_gives_a_watch_then_one_entry_with_reasons():
    e = Engine(BAL)
    out = feed(e, path())
    signals = [o for o in out if isinstance(o, Signal)]
    assert [s.state for s in signals[:2]] == ["WATCHING", "ARMED"]
    assert all(s.side == "Buy" and s.profile == "balanced" and s.profile_version == 2 for s in signals)
    first = signals[0]
    assert first.score == pytest.approx(sum(first.components.values()))
    assert any(r.startswith("Buy: momentum") for r in first.reasons)
    [entry] = intents(out)
    assert entry.intent_id == f"s-BTCUSDT-e-{ENTRY_BAR}" and entry.created_ts_ns == ENTRY_BAR * MS
    ref = float(entry.reference_price)
    # stop 15 bps (sl_min_bps) below the ask, take profit 1.5 stops above, size capped at 150 % exposure
    assert float(entry.stop_loss) == pytest.approx(ref * (1 - 0.0015), abs=0.01)
    assert float(entry.take_profit) == pytest.approx(ref * (1 + 0.00225), abs=0.01)
    assert float(entry.qty) == pytest.approx(15_000 / ref, abs=0.001)
    assert e.symbols["BTCUSDT"].m.state is State.ARMED


def test_same_messages_give_byte_identical_outputs():
    runs = [b"".join(encode(o) for o in feed(Engine(BAL), path() + path("ETHUSDT", base=2000.0)))
            for _ in range(2)]
    assert runs[0] == runs[1] and len(runs[0]) > 0


def test_fill_position_exit_and_cooldown_with_pnl_after_fees():
    e = Engine(BAL)
    [entry] = intents(feed(e, path()))
    e.on_exec_event(fill(entry, price="100.30", ts_ms=ENTRY_BAR + 10, qty="100.000", fee="5.0"))
    e.on_exec_event(position("BTCUSDT", size="100.000", price="100.30", ts_ms=ENTRY_BAR + 10))
    assert e.symbols["BTCUSDT"].m.state is State.ENTERED
    # the price falls back: the buy side's score reverses and a reduce-only exit goes out
    t = T0 + 48_000
    falling = [msg for k in range(6) for msg in (
        book("BTCUSDT", ts_ms=t + k * 1000, mid=100.3 - 0.1 * k, bid_size=1.0, ask_size=9.0),
        trade("BTCUSDT", ts_ms=t + k * 1000 + 500, price=100.3 - 0.1 * k, size=5.0, side="Sell"))]
    [exit_] = intents(feed(e, falling))
    assert exit_.reduce_only and exit_.side == "Sell" and exit_.qty == "100.000"
    assert e.symbols["BTCUSDT"].m.state is State.EXITING
    e.on_exec_event(fill(exit_, price="100.00", ts_ms=t + 9000, qty="100.000", fee="5.0"))
    e.on_exec_event(position("BTCUSDT", size="0", price="", ts_ms=t + 9000))
    assert e.symbols["BTCUSDT"].m.state is State.COOLDOWN
    # (100.00 - 100.30) * 100 - 2 * 5 fees
    assert e.risk.equity == pytest.approx(10_000 - 30 - 10)
    assert e.risk.losses_in_row == 1 and "BTCUSDT" not in e.risk.exposure


def test_a_rejected_entry_frees_its_exposure_and_cools_down():
    e = Engine(BAL)
    [entry] = intents(feed(e, path()))
    e.on_exec_event(OrderEvent(order_link_id=entry.intent_id, order_id="o", symbol="BTCUSDT", side="Buy",
                               status="Rejected", order_type="Market", qty=entry.qty, ts_ns=(ENTRY_BAR + 5) * MS))
    assert e.symbols["BTCUSDT"].m.state is State.COOLDOWN and e.risk.exposure == {}


@pytest.mark.parametrize(("setup", "reason"), [
    (lambda e: setattr(e, "safe_mode", True), "entry blocked: safe mode"),
    (lambda e: setattr(e, "feed_stale", True), "entry blocked: stale market data"),
    (lambda e: e.risk.on_pnl(-400.0, now_ms=T0), "entry blocked: kill switch: daily loss 4.00 %"),
])
def test_no_entry_in_safe_mode_on_stale_data_or_after_a_kill(setup, reason):
    e = Engine(BAL)
    setup(e)
    out = feed(e, path())
    assert intents(out) == []
    assert any(reason in r for o in out if isinstance(o, Signal) for r in o.reasons)
    assert e.symbols["BTCUSDT"].m.state is State.WATCHING


def test_a_stale_book_blocks_entries():
    e = Engine(BAL)
    msgs = path(stale=True)
    assert intents(feed(e, msgs)) == []


def test_a_restart_rebuilds_state_and_never_enters_the_same_setup_twice():
    first = Engine(BAL)
    [entry] = intents(feed(first, path()))
    again = Engine(BAL)
    again.restore(intents=[entry], events=[])
    assert again.symbols["BTCUSDT"].m.state is State.ARMED
    assert intents(feed(again, path())) == []  # the redelivered market data: nothing new
    filled = Engine(BAL)
    filled.restore(intents=[entry], events=[fill(entry, price="100.3", ts_ms=ENTRY_BAR + 1),
                                            position("BTCUSDT", size=entry.qty, price="100.3", ts_ms=ENTRY_BAR + 1)])
    assert filled.symbols["BTCUSDT"].m.state is State.ENTERED
    assert filled.symbols["BTCUSDT"].pos == pytest.approx(float(entry.qty))


def test_a_late_fill_after_the_entry_timed_out_is_still_managed():
    e = Engine(BAL)
    [entry] = intents(feed(e, path()))
    late = ENTRY_BAR + BAL.timing.armed_timeout_ms + 5_000
    feed(e, [book("BTCUSDT", ts_ms=late, mid=100.5)])  # the next bar: ARMED times out
    assert e.symbols["BTCUSDT"].m.state is State.COOLDOWN and e.risk.exposure == {}
    e.on_exec_event(position("BTCUSDT", size=entry.qty, price="100.3", ts_ms=late + 1))
    m = e.symbols["BTCUSDT"].m
    assert (m.state, m.side) == (State.ENTERED, "Buy") and "BTCUSDT" in e.risk.exposure


def test_redelivered_fills_count_once_and_old_positions_are_ignored():
    e = Engine(BAL)
    [entry] = intents(feed(e, path()))
    f = fill(entry, price="100.3", ts_ms=ENTRY_BAR + 1, fee="1.0")
    e.on_exec_event(f)
    e.on_exec_event(f)
    assert e.risk.equity == pytest.approx(10_000 - 1.0)
    e.on_exec_event(position("BTCUSDT", size=entry.qty, price="100.3", ts_ms=ENTRY_BAR + 2))
    e.on_exec_event(position("BTCUSDT", size="0", price="", ts_ms=ENTRY_BAR + 1))  # older: ignored
    assert e.symbols["BTCUSDT"].m.state is State.ENTERED


def test_a_profile_switch_applies_at_the_next_bar():
    msgs = path()
    strict = msgspec.structs.replace(BAL, version=3, scoring=msgspec.structs.replace(
        BAL.scoring, watch_score=5.0, entry_score=6.0))
    e = Engine(BAL)
    feed(e, msgs[:100])
    e.set_profile(strict)
    assert feed(e, msgs[100:]) == []  # the same rise that enters under balanced is not even watched
    e = Engine(strict)
    feed(e, msgs[:100])
    e.set_profile(profile.load("aggressive"))
    out = feed(e, msgs[100:])
    assert len(intents(out)) == 1
    assert {(o.profile, o.profile_version) for o in out if isinstance(o, Signal)} == {("aggressive", 2)}


def _refuse(e: Engine, exit_: OrderIntent, ts_ms: int) -> None:
    e.on_exec_event(OrderEvent(order_link_id=exit_.intent_id, order_id="", symbol=exit_.symbol, side=exit_.side,
                               status="Rejected", order_type="Market", qty=exit_.qty, reduce_only=True,
                               reject_reason="110017: current position is zero", ts_ns=ts_ms * MS))


def test_an_exit_refused_again_and_again_is_given_up_after_a_bounded_number_of_tries():
    e = Engine(BAL)
    e.on_exec_event(position("BTCUSDT", size="0.164", price="100.00", ts_ms=T0))  # a position it cannot close
    sent = []
    for msg in path(start_ms=T0 + 1_000, step_bps=-12.0, pump_s=30):
        for i in intents(feed(e, [msg])):
            sent.append(i)
            _refuse(e, i, msg.exchange_ts_ns // MS)
    assert len(sent) == MAX_EXIT_REFUSALS and all(i.reduce_only for i in sent)
    assert e.symbols["BTCUSDT"].m.state is State.ENTERED  # still held as far as it knows; an alert says so


def test_adopting_execution_s_view_flattens_what_the_exchange_does_not_hold_and_takes_what_it_does():
    e = Engine(BAL)
    e.on_exec_event(fill(OrderIntent(intent_id="s-BTCUSDT-e-0", symbol="BTCUSDT", side="Buy", qty="0.164",
                                     created_ts_ns=T0 * MS), price="100.00", ts_ms=T0))
    e.on_exec_event(position("BTCUSDT", size="0.164", price="100.00", ts_ms=T0 + 1))
    assert e.adopt({"ETHUSDT": Held(side="Sell", size=0.12, avg=3200.0)}, now_ms=T0 + 2) == ["BTCUSDT", "ETHUSDT"]
    btc, eth = e.symbols["BTCUSDT"], e.symbols["ETHUSDT"]
    assert (btc.pos, btc.pos_size, btc.m.state) == (0.0, 0.0, State.COOLDOWN)
    assert (eth.pos, eth.pos_size, eth.m.state, eth.m.side) == (-0.12, 0.12, State.ENTERED, "Sell")
    assert e.risk.exposure == {"ETHUSDT": 0.12 * 3200.0}
    assert e.adopt({"ETHUSDT": Held(side="Sell", size=0.12, avg=3200.0)}, now_ms=T0 + 3) == []
